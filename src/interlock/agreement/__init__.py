"""The agreement file: model, loading, canonical hash, and the checker.  Pure.

Quick start::

    from interlock.agreement import load_agreement
    agreement = load_agreement(open("plan.yaml", "rb").read())
    agreement.hash   # "sha256:…", the name statements use for it
"""

from interlock.agreement.load import load_agreement, parse_document
from interlock.agreement.model import Agreement, Obligation, Party, Stage

__all__ = ["Agreement", "Obligation", "Party", "Stage", "load_agreement", "parse_document"]
