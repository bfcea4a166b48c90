from django.urls import path

from . import consumers

websocket_urlpatterns = [
    path("ws/markets/<slug:slug>/", consumers.MarketConsumer.as_asgi()),
]
