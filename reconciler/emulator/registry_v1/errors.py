"""The codes the image registry answers, named by what went wrong.

For: one page that shows the registry's error surface (docs/api-contract.md "Image
registry"); the model raises ``ErrorAnswer(errors.X)``. Statuses and messages are in
:mod:`reconciler.error_codes`. Requests are read the BCE way (:data:`READ`: a wrong JSON type is
``InappropriateJSON``, a body that is not JSON ``MalformedJSON``).
Not for: which rule fails (the model's).
"""

from __future__ import annotations

from ..params import BCE_JSON, Reader

READ: Reader = BCE_JSON

# the account's one user
USER_EXISTS = "Cce.UserExist"
ANOTHER_USER_EXISTS = "Cce.MoreThanOneUserPerAccount"
NO_USER = "Cce.warning.UserNotExist"
USERNAME_MISSING = "Cce.UserNameNull"
USERNAME_FORMAT = "Cce.UserNameFormatError"
PASSWORD_FORMAT = "Cce.PasswordFormatError"
CONFIRMATION_DIFFERS = "Cce.ConfirmFail"
PASSWORD_UNCHANGED = "Cce.PasswdNotChange"
# namespaces
LACKS_PARAMETERS = "RegistryLackParams"
NAMESPACE_FORMAT = "Cce.NamespaceRequestFormatError"
NAMESPACE_EXISTS = "RegistryAlreadyExist"
NAMESPACE_QUOTA = "RegistryOutOfLimit"
NAMESPACE_NOT_FOUND = "RegistryNamespaceNotFound"
OWNER_NOT_FOUND = "RegistryUserNotFound"
# repositories and tags
NAME_OR_TAG_MISSING = "Cce.NamespaceRepositoryOrTagNull"
REPOSITORY_FORMAT = "Cce.ImageRepositoryFormatError"
TAG_FORMAT = "Cce.ImageTagFormatError"
NAMESPACE_MISSING = "RegistryNamespaceNotExist"
REPOSITORY_NOT_FOUND = "RegistryRepositoryNotFound"
TAG_NOT_FOUND = "RegistryTagNotFound"
