"""What a serving process runs beside HTTP: the timer (schedule), pushes to partners,
WebSub pings, metrics, and the status that reports on all of them."""
