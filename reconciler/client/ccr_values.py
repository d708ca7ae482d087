"""The CCR Enterprise API's enumerated values that a kind declares or waits on: the public
endpoint's settled states and the types a field may take (shared/ccr-enterprise-api.md).

For: constants, so that declaring the CCR kinds (which every configuration load does) costs
no import of the wire types (:mod:`.ccr_types`, read when a CCR kind is refreshed or applied).
Not for: request bodies or answers (:mod:`.ccr_types`), HTTP (:mod:`.ccr`).

NOT ESTABLISHED (docs/api-contract.md "CCR Enterprise"): the values of every ``status``. The
public endpoint's states below are the emulator's choices, the one place the reconciler spells
them.
"""

from __future__ import annotations

ROBOT_PREFIX = "ccr$"  # the service names a robot "ccr$<name>" [META CreateRobotAccount]
# NOT ESTABLISHED: the emulator's spelling of the public endpoint's settled states.
PUBLIC_OPENED, PUBLIC_CLOSED = "opened", "closed"
PUBLIC_ACTIONS = ("open", "close")  # [SDK binding]
REGISTRY_TYPES = ("harbor", "docker-hub", "docker-registry", "baidu-ccr")  # [SDK binding]
IP_TYPES = ("auto", "manual")  # [META AddVpcLink]
