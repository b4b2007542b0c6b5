from django.urls import path

from .views import console_page

urlpatterns = [path("", console_page, name="console")]
