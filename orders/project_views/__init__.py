"""The project pages (issue 5): the awarded lead opens its project and runs it from one board
(packages, team invitations, agreements, standards, inspection, shipments, claims, charges);
a member answers invitations and works its packages (「担当作業」); the buyer accepts its
deliveries or raises claims (「納品・検収」); the secretariat reads its network's projects.

As in orders/views/: every page declares its access and, for one object, its scope
(members.pages; 404 for what the viewer may not see); the right to act is checked before a
form is read (403); every write is one service call, and what a service refuses is shown on
the form field it names.

One module per audience (lead, inspection, member, buyer, files), what they share in common;
the views orders/urls.py routes are named here.
"""

from .buyer import buyer_projects, project_delivery, shipment_accept, shipment_claim
from .files import evidence_photo, standard_file
from .inspection import delivery_inspect
from .lead import (
    agreement_accept,
    claim_resolve,
    claim_trace,
    invitation_withdraw,
    package_add,
    package_cancel,
    package_charge_late,
    package_invite,
    package_self_perform,
    project_board,
    project_list,
    project_open,
    shipment_send,
    standard_attach,
)
from .member import (
    delivery_record,
    invitation_respond,
    my_work,
    package_start,
    standard_confirm,
    work_package,
)

__all__ = [
    "agreement_accept",
    "buyer_projects",
    "claim_resolve",
    "claim_trace",
    "delivery_inspect",
    "delivery_record",
    "evidence_photo",
    "invitation_respond",
    "invitation_withdraw",
    "my_work",
    "package_add",
    "package_cancel",
    "package_charge_late",
    "package_invite",
    "package_self_perform",
    "package_start",
    "project_board",
    "project_delivery",
    "project_list",
    "project_open",
    "shipment_accept",
    "shipment_claim",
    "shipment_send",
    "standard_attach",
    "standard_confirm",
    "standard_file",
    "work_package",
]
