"""Delivery: email a published report (``message`` builds it, ``send`` sends it once over
SMTP, ``monthly`` picks the month behind ``make monthly``)."""
