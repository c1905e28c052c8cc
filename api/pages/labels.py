"""The words every page uses for the engine's codes: a match's status, why it was rejected and
what came of it (:mod:`matcher.workflow.lifecycle`), and each scorer (its own ``label``). Marked with ``N_``, they
are translated where they are shown; :func:`api.pages.render.render` gives them to every
template (``status_labels``, ``reason_labels``, ``outcome_labels``, ``scorer_labels``).
"""

from __future__ import annotations

from functools import lru_cache

from api.pages.i18n import N_
from matcher.plugins import collect_scorers, get_plugin_manager
from matcher.ranking.scoring import public_scorer_labels
from matcher.ranking.scoring import scorer_labels as labels_of

# Each state of matcher.workflow.lifecycle.STATES, as every role reads it.
STATUS_LABELS = {
    "proposed": N_("Proposed"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
    "introduced": N_("Introduced"),
    "active": N_("Active"),
    "outcome_recorded": N_("Outcome recorded"),
    "closed": N_("Closed"),
}
# Each status word of matcher.workflow.lifecycle.status_word: the status, or "Requested" for
# a match the association asked for itself.
STATUS_WORDS = {**STATUS_LABELS, "requested": N_("Requested")}
# Each reason of matcher.workflow.lifecycle.REJECT_REASONS.
REASON_LABELS = {
    "not_relevant": N_("Not relevant to the need"),
    "not_eligible": N_("The association is not eligible"),
    "capacity": N_("No capacity left"),
    "duplicate": N_("Duplicate request"),
    "other": N_("Another reason"),
}
# Each answer of matcher.vocabulary.PARTNER_ANSWERS, and why a partner declines.
PARTNER_ANSWER_LABELS = {
    "accepted": N_("The partner accepted"),
    "declined": N_("The partner declined"),
}
PARTNER_REASON_LABELS = {
    "no_capacity": N_("No capacity at the moment"),
    "not_a_fit": N_("Not a fit for this offering"),
    "timing": N_("Not at this time"),
    "other": N_("Another reason"),
}
# Who wrote a comment, by role (an association's comment on a match still confidential to
# the reader names no one but "The association").
COMMENT_AUTHORS = {
    "admin": N_("Administrator"),
    "coordinator": N_("Coordinator"),
    "association": N_("The association"),
    "partner": N_("The partner"),
}
# Each strength word of the calibration (matcher.ranking.calibration), as pages show it.
STRENGTH_LABELS = {
    "strong": N_("Strong match"),
    "good": N_("Good match"),
    "possible": N_("Possible match"),
    "weak": N_("Weak match"),
}
# Each outcome of matcher.workflow.lifecycle.OUTCOMES.
OUTCOME_LABELS = {
    "agreement_signed": N_("Agreement signed"),
    "loan": N_("Loan granted"),
    "training": N_("Training given"),
    "visit": N_("Visit made"),
    "no_outcome": N_("No outcome"),
}


@lru_cache(maxsize=1)
def scorer_labels() -> dict[str, str]:
    """Each scorer's label (its own ``label``, translated where shown); a scorer without one
    is shown by its name."""
    return labels_of(collect_scorers(get_plugin_manager()))


@lru_cache(maxsize=1)
def public_labels() -> dict[str, str]:
    """Each scorer's label on association and partner pages (no engine names)."""
    return public_scorer_labels(collect_scorers(get_plugin_manager()))
