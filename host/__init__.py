"""Host side of the board link: the protocol client (``host.client``) and its command line (``python -m host``)."""
