"""Suite-wide hooks: tests marked ``long`` run first, so that with several workers they overlap the many short
ones instead of finishing alone at the end; the functional coverage of the simulator runs this session made is
merged into ``build/report/coverage.{yml,md}`` at its end."""

import time


def pytest_collection_modifyitems(config, items):
    items.sort(key=lambda item: item.get_closest_marker("long") is None)  # stable: the rest keep their order


def pytest_sessionstart(session):
    session.config.stash_started = time.time()


def pytest_sessionfinish(session):
    if hasattr(session.config, "workerinput"):  # an xdist worker: the controller merges
        return
    from verif.runner import BUILD, coverage_runs

    runs = coverage_runs(getattr(session.config, "stash_started", time.time()))
    if runs:
        from verif.coverage import merge_report

        session.config.coverage_totals = merge_report(runs, BUILD / "report")


def pytest_terminal_summary(terminalreporter, config):
    totals = getattr(config, "coverage_totals", None)
    if totals:
        terminalreporter.write_line(
            f"functional coverage: {totals['hit']} of {totals['bins']} bins hit ({totals['percent']} %) in "
            f"{totals['runs']} simulator runs; bins missed: build/report/coverage.md")
