"""Local HTTP servers shaped like the ERP APIs our adapters call, for integration tests.

They follow the vendors' published documentation for the small subset the adapters use (request
paths, parameters, response and error bodies, the OAuth token endpoint). They are NOT the real
products: Oracle Fusion Cloud and Infor M3 cannot run here, so whatever passes against these
servers is verified only against our reading of the documents."""
from tests.vendor_servers.base import Fault, VendorServer

__all__ = ["Fault", "VendorServer"]
