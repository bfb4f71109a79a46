from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.storage import storages
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render

from buckets.fields.forms import S3FileFormMixin
from buckets.test.storage import FakeS3Storage

from .models import Document, Picture


class DocumentForm(S3FileFormMixin, forms.ModelForm):
    class Meta:
        model = Document
        fields = ["title", "file"]


def storage_description() -> str:
    """Where this demo keeps its files, in words: the environment decides (see settings)."""
    storage = storages["default"]
    if isinstance(storage, FakeS3Storage):
        return f"FakeS3Storage, on this computer: {storage.root}"
    s = storage.settings  # type: ignore[attr-defined]
    return f"S3Storage, bucket “{s.bucket_name}” at {s.endpoint_url or 'Amazon S3'}"


def document_list(request):
    return render(
        request,
        "demo/list.html",
        {
            "documents": Document.objects.all(),
            "pictures": Picture.objects.all(),
            "storage": storage_description(),
        },
    )


def about(request):
    """What the demo shows, page by page."""
    return render(request, "demo/about.html", {"storage": storage_description()})


@login_required
def upload(request):
    form = DocumentForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        document = form.save()
        messages.success(request, f"Saved “{document.title}”.")
        return redirect("document_list")
    return render(request, "demo/upload.html", {"form": form})


@login_required
def edit(request, pk):
    """Change a document's title or file: a replaced file's object is deleted once the new
    one is saved (the field wrote it; see README "Usage: the model field")."""
    document = get_object_or_404(Document, pk=pk)
    form = DocumentForm(request.POST or None, instance=document, user=request.user)
    if request.method == "POST" and form.is_valid():
        document = form.save()
        messages.success(request, f"Saved “{document.title}”.")
        return redirect("document_list")
    return render(request, "demo/edit.html", {"form": form, "document": document})


@login_required
def delete(request, pk):
    """Ask, then delete a document and its object (cleared first, so the field deletes the
    object after the commit, as it does for a replaced file)."""
    document = get_object_or_404(Document, pk=pk)
    if request.method == "POST":
        with transaction.atomic():
            document.file = ""
            document.save(update_fields=["file"])
            document.delete()
        messages.success(request, f"Deleted “{document.title}”.")
        return redirect("document_list")
    return render(request, "demo/delete.html", {"document": document})
