from .permissions import roles_of


def roles(request):
    """The signed-in user's roles, for the navigation."""
    return {"roles": roles_of(request.user)}
