"""The member pages, one module per domain: the home page (`home`), companies and their
capabilities (`companies`), the networks' directories (`directories`), lead-company
appointments (`appointments`).

Every page is declared through members.pages: who may open it and, for one object, the
selector scoped to the viewer it is looked up in (404 for what the viewer may not see); the
right to act is checked before a form is read (403); every write is one service call.
"""
