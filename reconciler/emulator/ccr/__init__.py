"""CCR Enterprise (``ccr.<region>.baidubce.com``): instances, projects, repositories, robot
accounts, network access and remote registries, as the official Go SDK (``services/eccr``)
sends and decodes them (shared/ccr-enterprise-api.md).

``routes`` (URL table), ``handlers`` (thin; the SDK's wire shapes), ``models`` (rules, tables,
the emulator's choices where the facts are not established), ``errors`` (the codes it answers).
"""
