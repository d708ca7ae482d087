"""The configuration: YAML files -> one :class:`~reconciler.model.DesiredState`, or every problem.

For: finding the configuration files under the given paths, expanding input variables
(``${var.NAME}``; values from defaults, ``RECONCILER_VAR_NAME``, the environment file,
``--var-file`` and ``--var``), checking each file against the schemas (generated from the
kinds' field tables, plus the hand-written ones in ``reconciler/schemas``) and then against the
rules a schema cannot express (addresses unique across files, one target, and each kind's own:
``Kind.config_problems``), collecting every problem as ``PATH:LINE:COLUMN: error: message``
before raising :class:`ConfigError`; environments (``environments/NAME.yaml`` under the configuration root); and ``config_digest``,
the fingerprint a saved plan keeps of the desired content.
Not for: reading secret values (``reconciler.secrets``; only with ``check_secrets=True``), or
anything that needs the network: this package loads the kinds (``reconciler.kinds``: what each
section is) but never the HTTP client.

The stages, one module each::

    yamlload    one YAML file -> plain values with the position of each, refusing unsafe YAML
    files       PATH arguments -> the YAML files, read into documents with positions; the root
    environments  environments/NAME.yaml: variable values, target and state of one environment
    variables   declarations and the value of each variable, by precedence
    expansion   ${var.NAME} in the documents replaced by values, positions kept
    schema      the JSON Schemas (the kinds' generated ones and the hand-written ones), validator
    fastpath    the schemas compiled into a "surely valid" check, for speed
    validation  each document against the schema, remembering where errors are
    messages    the words and the position of each schema error
    checks      the rules across files (addresses, target, secrets, each kind's own)
    specs       declared YAML -> each kind's specs -> DesiredState
    digest      config_digest
    load        the pipeline: load_config, load_desired_state
"""

from __future__ import annotations

from reconciler.config.checks import endpoint_problem
from reconciler.config.digest import config_digest
from reconciler.config.environments import Environment, list_environments
from reconciler.config.fastpath import fast_check as _fast_check  # noqa: F401 - tests/bench
from reconciler.config.files import config_root, find_files
from reconciler.config.load import LoadResult, load_config, load_desired_state
from reconciler.config.messages import PATTERN_HINTS
from reconciler.config.schema import schema_documents
from reconciler.config.schema import validator as _validator  # noqa: F401 - tests/bench
from reconciler.secrets import resolve_secret

__all__ = [
    "PATTERN_HINTS",
    "Environment",
    "LoadResult",
    "config_digest",
    "config_root",
    "endpoint_problem",
    "find_files",
    "list_environments",
    "load_config",
    "load_desired_state",
    "resolve_secret",
    "schema_documents",
]
