"""cce-reconciler: a declarative reconciler for Baidu AI Cloud CCE (v1 API), with an emulator."""

from reconciler import methodcache

__version__ = "0.1.0"

methodcache.install()  # before any of the package's dataclasses is made (start-up)
