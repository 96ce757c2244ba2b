"""Suite-wide collection order: tests marked ``long`` run first, so that with several workers they overlap the
many short ones instead of finishing alone at the end."""


def pytest_collection_modifyitems(config, items):
    items.sort(key=lambda item: item.get_closest_marker("long") is None)  # stable: the rest keep their order
