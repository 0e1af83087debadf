"""The pages of the inquiry flow, one module per domain: the new inquiry (`intake`: the
buyer's form, the secretariat's phoned-in entry), the buyer's pages (`buyer`), the one page
per inquiry and its drawings (`inquiries`), the staff's lists (`queue`) and screening page
(`screening`), the lead companies' calls (`calls`), guest inquiries (`guest`).

Every page is declared through members.pages: who may open it, and for a page of one
inquiry, the scope it is looked up in (`common.visible_inquiries`: 404 for what the viewer
may not see). The right to act is checked before a form is read (403); every write is one
service call, and what a service refuses is shown on the form field it names.
"""
