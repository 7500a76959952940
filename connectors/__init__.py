"""Talk to other systems and nothing else: the one-stop-shop software (SOAP) and the national portal (REST)."""
