
urlpatterns: list = [
    # Pages of the inquiry flow (buyer form and timeline, secretariat queue, lead board,
    # committee decisions).
]
