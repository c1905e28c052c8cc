"""The words every page uses for the engine's codes: a match's status, why it was rejected and
what came of it (:mod:`matcher.matches`), and each built-in scorer. Marked with ``N_``, they
are translated where they are shown; :func:`api.pages.render.render` gives them to every
template (``status_labels``, ``reason_labels``, ``outcome_labels``, ``scorer_labels``).
"""

from __future__ import annotations

from api.pages.i18n import N_

# Each state of matcher.matches.STATES, as every role reads it.
STATUS_LABELS = {
    "proposed": N_("Proposed"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
    "introduced": N_("Introduced"),
    "active": N_("Active"),
    "outcome_recorded": N_("Outcome recorded"),
    "closed": N_("Closed"),
}
# Each reason of matcher.matches.REJECT_REASONS.
REASON_LABELS = {
    "not_relevant": N_("Not relevant to the need"),
    "not_eligible": N_("The association is not eligible"),
    "capacity": N_("No capacity left"),
    "duplicate": N_("Duplicate request"),
    "other": N_("Another reason"),
}
# Each outcome of matcher.matches.OUTCOMES.
OUTCOME_LABELS = {
    "agreement_signed": N_("Agreement signed"),
    "loan": N_("Loan granted"),
    "training": N_("Training given"),
    "visit": N_("Visit made"),
    "no_outcome": N_("No outcome"),
}
# Each built-in scorer in plain words; a third-party scorer is shown by its name.
SCORER_LABELS = {
    "semantic": N_("Close in meaning"),
    "semantic_minilm": N_("Close in meaning (English model)"),
    "lexical": N_("Words in common"),
    "category": N_("Same topic"),
    "language": N_("A shared language"),
    "commodity": N_("Same minerals"),
    "geography": N_("Same country or network"),
}
