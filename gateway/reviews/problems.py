"""The problems review routes answer with, each with a stable type."""

from gateway.problems import Conflict


class NotReviewable(Conflict):
    slug, title = "not-reviewable", "This stay cannot be reviewed: it has not been completed"


class ReviewWindowClosed(Conflict):
    slug, title = "review-window-closed", "The time to review this stay is over"


class AlreadyReviewed(Conflict):
    slug, title = "already-reviewed", "You reviewed this stay already"


class AlreadyReplied(Conflict):
    slug, title = "already-replied", "This review has its reply already"


class ReviewResolved(Conflict):
    slug, title = "review-resolved", "The review was hidden already"
