"""Calendar sync (iCal, RFC 5545): each listing's secret export feed, and feeds imported from other sites as blocks."""
