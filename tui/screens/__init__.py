"""Full screens and modal dialogs of the dashboard: one screen per module (help, catalog browser,
event detail, invalid messages, confirm, note)."""
