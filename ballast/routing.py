from django.urls import path

from dashboard.live import consumers

websocket_urlpatterns = [
    path("ws/markets/<slug:slug>/", consumers.MarketConsumer.as_asgi()),
    path("ws/overview/", consumers.OverviewConsumer.as_asgi()),
    path("ws/rebalance/", consumers.RebalanceConsumer.as_asgi()),
    path("ws/sizing/", consumers.SizingConsumer.as_asgi()),
]
