"""The launcher's supervision logic, on a fake clock and fake children (no process is started)."""

from __future__ import annotations

from ambiti_cli.supervisor import BACKOFF_MAX, STABLE_AFTER, Child, Supervisor


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _child(name: str, alive: dict[str, bool], failures: list[int] | None = None) -> Child:
    def start() -> None:
        if failures and failures[0] > 0:
            failures[0] -= 1
            raise RuntimeError("porta occupata")
        alive[name] = True

    return Child(name, start=start, alive=lambda: alive[name], stop=lambda: alive.__setitem__(name, False))


def test_un_figlio_fermo_e_riavviato_dopo_l_attesa_gli_altri_no() -> None:
    clock, alive, log = Clock(), {"planning": True, "monitoring": True}, []
    sup = Supervisor([_child("planning", alive), _child("monitoring", alive)], log.append, clock)
    sup.started()
    alive["monitoring"] = False
    sup.tick()
    assert log == ["monitoring si è fermato: lo riavvio tra 1 s"]
    assert sup.children[1].state.startswith("fermo")
    clock.now += 0.5
    sup.tick()
    assert not alive["monitoring"]  # not before its backoff
    clock.now += 0.6
    sup.tick()
    assert alive["monitoring"] and sup.children[1].restarts == 1 and sup.children[0].restarts == 0
    assert log[-1] == "monitoring riavviato (riavvio n. 1)"


def test_l_attesa_raddoppia_fino_a_un_massimo_e_si_azzera_dopo_un_minuto_di_vita() -> None:
    clock, alive, log = Clock(), {"broker": True}, []
    failures = [10]
    sup = Supervisor([_child("broker", alive, failures)], log.append, clock)
    sup.started()
    alive["broker"] = False
    waits = []
    for _ in range(12):
        sup.tick()
        child = sup.children[0]
        if child.retry_at is None:
            break
        waits.append(child.retry_at - clock.now)
        clock.now = child.retry_at
    assert waits[:6] == [1, 2, 4, 8, 16, 30] and max(waits) == BACKOFF_MAX
    assert alive["broker"] and "porta occupata" in " ".join(log)
    clock.now += STABLE_AFTER
    sup.tick()
    assert sup.children[0].backoff == 1


def test_arresto_nell_ordine_inverso_e_nessun_riavvio_durante_l_arresto() -> None:
    clock, alive, log, order = Clock(), {"postgres": True, "planning": True, "console": True}, [], []
    children = [_child(n, alive) for n in ("postgres", "planning", "console")]
    for c in children:
        c.stop = (lambda n: lambda: (order.append(n), alive.__setitem__(n, False)))(c.name)
    sup = Supervisor(children, log.append, clock)
    sup.started()
    sup.stop_all()
    sup.tick()
    assert order == ["console", "planning", "postgres"] and log == []
