"""Reference data the recipient stages route by: municipalities and correctional units.

Both are files under `deploy/reference/` (paths in `hub.settings.ReferenceSettings`), read and
checked once at start-up; a mistake in them stops the hub with one line naming file and row.
"""

from hub.reference.municipalities import Municipality, MunicipalityRegister, Resolved
from hub.reference.units import UnitRecord, UnitRegister

__all__ = ["Municipality", "MunicipalityRegister", "Resolved", "UnitRecord", "UnitRegister"]
