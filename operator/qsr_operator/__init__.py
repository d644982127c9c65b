"""The qsr-platform Kopf operator: reconciles LoyaltyProgram and StoreIntegration resources.

Importing the package costs nothing beyond this file. Only when Kopf's own CLI is the importer
(`kopf run -m qsr_operator`; it has loaded `kopf.cli`) are the handlers registered in Kopf's
default registry; `qsr_operator.kopf_run` says how and why.
"""

import sys

if "kopf.cli" in sys.modules:
    from qsr_operator import kopf_run

    kopf_run.register_if_kopf_run()
