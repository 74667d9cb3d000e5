// Where Bootstrap Italia's font loader finds the vendored fonts (read before its bundle runs).
window.__PUBLIC_PATH__ = "/static/vendor/bootstrap-italia/fonts";
