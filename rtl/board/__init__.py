"""Board top: a generated block behind a UART host link (``LinkedBlock``), on an amaranth-boards platform."""

from .link import HostLinkConfig, LinkedBlock
from .uart import UartRx, UartTx

__all__ = ["HostLinkConfig", "LinkedBlock", "UartRx", "UartTx"]
