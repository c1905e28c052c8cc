"""Every guarded API operation in words, for the messages a caller reads (a 403 names what
was refused, never an internal operation id)."""

from __future__ import annotations

from matcher.principals import Role

IN_WORDS: dict[str, str] = {
    "need_suggestions": "ask for suggestions for a need",
    "association_suggestions": "ask for suggestions for an association",
    "mark_not_interested": "say an association is not interested in a suggestion",
    "list_scorers": "list the scorers",
    "answer_match": "answer a match as its partner",
    "list_match_comments": "read a match's comments",
    "comment_match": "comment on a match",
    "unserved_needs": "list the needs no partner serves well yet",
    "list_associations": "list associations",
    "create_association": "create associations",
    "get_association": "read an association's profile",
    "update_association": "change an association's profile",
    "delete_association": "delete an association",
    "export_association_data": "export an association's data",
    "list_needs": "list needs",
    "create_need": "add needs",
    "get_need": "read a need",
    "update_need": "change a need",
    "delete_need": "delete a need",
    "list_practices": "list practices",
    "create_practice": "add practices",
    "get_practice": "read a practice",
    "update_practice": "change a practice",
    "delete_practice": "delete a practice",
    "list_partners": "list partners",
    "create_partner": "create partners",
    "get_partner": "read a partner's profile",
    "update_partner": "change a partner's profile",
    "delete_partner": "delete a partner",
    "export_partner_data": "export a partner's data",
    "list_offerings": "list offerings",
    "create_offering": "add offerings",
    "get_offering": "read an offering",
    "update_offering": "change an offering",
    "delete_offering": "delete an offering",
    "import_exchange": "import exchange documents",
    "export_exchange": "export exchange documents",
    "propose_match": "propose matches",
    "list_matches": "list matches",
    "get_match": "read a match",
    "match_audit": "read a match's history",
    "match_introduction": "read a match's introduction",
    "bulk_review_matches": "approve or reject matches in bulk",
    "approve_match": "approve matches",
    "reject_match": "reject matches",
    "accept_introduction": "accept an introduction",
    "decline_introduction": "decline an introduction",
    "activate_match": "mark a match active",
    "record_match_outcome": "record a match's outcome",
    "close_match": "close matches",
    "list_notifications": "read notifications",
    "read_notification": "mark notifications read",
    "read_all_notifications": "mark notifications read",
    "get_notification_preferences": "read notification preferences",
    "set_notification_preferences": "change notification preferences",
    "list_outbox": "read the e-mail outbox",
    "write_lesson": "write a match's lesson",
    "list_lessons": "read lessons",
    "promote_lesson": "make a lesson a practice",
}

ROLE_PLURALS = {Role.ADMIN: "admins", Role.COORDINATOR: "coordinators",
                Role.ASSOCIATION: "associations", Role.PARTNER: "partners"}


def refusal(role: Role, operation_id: str) -> str:
    """``partners cannot ask for suggestions for a need``."""
    what = IN_WORDS.get(operation_id, "do this")
    return f"{ROLE_PLURALS[role]} cannot {what}"
