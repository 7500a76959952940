"""Pure translations between each system's dossier records and the hub's canonical model. No I/O here."""
