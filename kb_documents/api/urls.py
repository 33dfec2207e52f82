from django.urls import path
from rest_framework.routers import DefaultRouter

from kb_documents.api import views

router = DefaultRouter()
router.register("notes", views.NoteViewSet, basename="note")
router.register("documents", views.DocumentViewSet, basename="document")

urlpatterns = [
    path("search/", views.SearchView.as_view(), name="search"),
]
