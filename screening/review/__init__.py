"""The reviewer\x27s desk: every screening with filters and exports, one screening\x27s record and audit trail, re-evaluation under the current rules, rule analytics and the audit log."""
