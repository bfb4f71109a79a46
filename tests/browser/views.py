"""Plain pages for the browser tests: a form per model, and a formset with "Add another"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django import forms
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404
from django.template import Engine, RequestContext
from django.urls import reverse

from buckets.uploads.field_tokens import field_token
from tests.browser.uppy_bundle import UPPY_BUNDLES, UPPY_FILES, UPPY_VERSION, uppy_dist
from tests.testapp.forms import AvatarForm, DocumentForm
from tests.testapp.models import Avatar, Document

#: Its own template engine: this folder is not an app, and the settings are not ours to change.
ENGINE = Engine(dirs=[str(Path(__file__).resolve().parent / "templates")])


def render(request: HttpRequest, name: str, context: dict[str, Any]) -> HttpResponse:
    get_token(request)  # the csrftoken cookie, as a real site sets it
    template = ENGINE.get_template(name)
    return HttpResponse(template.render(RequestContext(request, context)))


def _edit(
    request: HttpRequest, model: Any, form_class: Any, pk: int | None, title: str, edit_url: str
) -> Any:
    instance = get_object_or_404(model, pk=pk) if pk else None
    if request.method == "POST":
        form = form_class(request.POST, instance=instance, user=request.user)
        if form.is_valid():
            saved = form.save()
            return HttpResponseRedirect(reverse(edit_url, args=[saved.pk]) + "?saved=1")
    else:
        form = form_class(instance=instance, user=request.user)
    return render(
        request,
        "form.html",
        {"form": form, "title": title, "saved": request.GET.get("saved"), "object": instance},
    )


def document(request: HttpRequest, pk: int | None = None) -> Any:
    return _edit(request, Document, DocumentForm, pk, "Document", "document_edit")


def avatar(request: HttpRequest, pk: int | None = None) -> Any:
    return _edit(request, Avatar, AvatarForm, pk, "Profile files", "avatar_edit")


DocumentFormSet = forms.modelformset_factory(Document, form=DocumentForm, extra=0)


def documents(request: HttpRequest) -> Any:
    kwargs: dict[str, Any] = {
        "form_kwargs": {"user": request.user},
        "queryset": Document.objects.none(),
    }
    if request.method == "POST":
        formset = DocumentFormSet(request.POST, **kwargs)
        if formset.is_valid():
            formset.save()
            return HttpResponseRedirect(f"{request.path_info}?saved={len(formset.forms)}")
    else:
        formset = DocumentFormSet(**kwargs)
    return render(request, "formset.html", {"formset": formset, "saved": request.GET.get("saved")})


def uppy(request: HttpRequest) -> Any:
    """Uppy's Dashboard with ``@uppy/aws-s3`` pointed at this site, set up as README says:
    the CSRF header, and the size and ``Document.file``'s field token as file metadata.
    ``?multipart=0`` sends every file in one piece (``s3/params``), else in parts;
    ``?uppy=4.0.5`` loads that release (one of ``UPPY_BUNDLES``)."""
    version = request.GET.get("uppy", UPPY_VERSION)
    if version not in UPPY_BUNDLES:
        raise Http404(version)
    context = {
        "csrftoken": get_token(request),
        "field_token": field_token(Document._meta.get_field("file")),
        "multipart": request.GET.get("multipart") != "0",
        "uppy_version": version,
    }
    return render(request, "uppy.html", context)


def uppy_asset(request: HttpRequest, version: str, name: str) -> Any:
    """One file of Uppy's browser bundle (fetched by the tests, see ``uppy_bundle``)."""
    if version not in UPPY_BUNDLES or name not in UPPY_FILES:
        raise Http404(name)
    return FileResponse((uppy_dist(version) / name).open("rb"), content_type=UPPY_FILES[name])
