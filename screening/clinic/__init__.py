"""The clinician\x27s pages: home, patients and intakes as the screening side shows them, the result page, flag review, sign-off and amendment."""
