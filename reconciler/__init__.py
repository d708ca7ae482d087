"""cce-reconciler: a declarative reconciler for Baidu AI Cloud CCE (v1 API), with an emulator."""

__version__ = "0.1.0"
