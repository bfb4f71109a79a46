from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from buckets.forms import S3FileFormMixin

from .models import Document, Picture


class DocumentForm(S3FileFormMixin, forms.ModelForm):
    class Meta:
        model = Document
        fields = ["title", "file"]


def document_list(request):
    return render(
        request,
        "demo/list.html",
        {"documents": Document.objects.all(), "pictures": Picture.objects.all()},
    )


@login_required
def upload(request):
    form = DocumentForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        document = form.save()
        messages.success(request, f"Saved “{document.title}”.")
        return redirect("document_list")
    return render(request, "demo/upload.html", {"form": form})
