"""The codes the whole exchange speaks: kinds of suggestion, match states, reasons, outcomes,
queue sorts, and the topics that make a need confidential.

The one place they are spelled: the engine, the store and the API schemas derive from them.
"""

from __future__ import annotations

KINDS = ("partner", "peer")  # offerings of partners; practices of peer associations

STATES = ("proposed", "approved", "rejected", "introduced", "active", "outcome_recorded",
          "closed")
HOLDING_CAPACITY = ("approved", "introduced", "active")  # each holds a slot of its offering
FINAL_STATES = ("rejected", "closed")
REJECT_REASONS = ("not_relevant", "not_eligible", "capacity", "duplicate", "other")
OUTCOMES = ("agreement_signed", "loan", "training", "visit", "no_outcome")
# What an outcome says of the offering or practice exchanged: it helped (something came of
# it), or nothing came of it. The evidence the engine keeps per item counts both.
GOOD_OUTCOMES = ("agreement_signed", "loan", "training", "visit")
NO_OUTCOME = "no_outcome"
MATCH_SORTS = ("-score", "created_at", "-created_at")  # the review queue's orders

# Where a kind's fusion weights come from: the scorers' and settings' hand weights, or a model
# learned from coordinators' decisions (``matcher train``).
FUSION_SOURCES = ("hand", "learned")

# Who performs a lifecycle action: a reviewer (a coordinator of the association's region, or
# an admin), or the association that posted the need (or an admin).
REVIEWER = "reviewer"
ASSOCIATION = "association"

# A partner's answer to a match on its offering, recorded on the match beside its status (the
# state machine is the coordinators' and the association's): while the match is open, the
# partner accepts or declines it (a decline with a reason), and may change its mind.
PARTNER_ANSWERS = ("accepted", "declined")
PARTNER_DECLINE_REASONS = ("no_capacity", "not_a_fit", "timing", "other")
ANSWERABLE_STATES = ("proposed", "approved", "introduced", "active")
MAX_COMMENT = 2000  # characters of one comment on a match

SENSITIVE_CATEGORIES = ("sgbv",)  # a need given one of these topics is confidential

# What people are told of (matcher/workflow/notifications.py), and by which channels.
# ``round_proposed`` is told like a request, for the rounds to come.
# ``partner_answered``: a partner accepted or declined a match; its coordinators are told.
# ``commented``: a comment was added to a match's thread; everyone else who reads it is told.
EVENTS = ("requested", "round_proposed", "approved", "introduced", "reminder",
          "partner_answered", "commented")
CHANNELS = ("app", "email")
