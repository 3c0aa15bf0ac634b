"""CUI imports as core.jobs job functions: run on the task worker for uploads from the web
page, and with a Rich progress bar by `mufakat cui import-*`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from mufakat.core.jobs import JobContext, job_function
from mufakat.cui import importers, services


@job_function(
    "cui.upload_assets", label=_("Route upload"), result_template="cui/_upload_result.html"
)
def upload_assets(job: JobContext, *, filename: str, label: str = "") -> dict[str, Any]:
    """The user's GeoJSON/KML routes, private to their organisation."""
    report = services.import_asset_routes(
        job.user, job.input_bytes(), filename, label=label, job=job
    )
    return report.as_dict()


@job_function("cui.import_stix", label=_("STIX import"), result_template="cui/_stix_result.html")
def import_stix(job: JobContext) -> dict[str, Any]:
    """Incidents from a STIX 2.1 bundle, owned by the user's organisation, shared with nobody."""
    created = services.import_stix(job.user, job.input_bytes(), job)
    return {
        "created": len(created),
        "incidents": [
            {
                "id": i.pk,
                "reference": i.reference,
                "title": i.title,
                "url": reverse("cui:incident", args=[i.pk]),
            }
            for i in created[:200]
        ],
    }


@job_function("cui.import_cables", label=_("Cable import"))
def import_cables(job: JobContext, *, directory: str) -> dict[str, Any]:
    """TeleGeography cables and landing points (reference data, public)."""
    return importers.import_cables(Path(directory), job).as_dict()


@job_function("cui.import_pipelines", label=_("Pipeline import"))
def import_pipelines(job: JobContext, *, path: str) -> dict[str, Any]:
    """GEM pipeline routes (reference data, public)."""
    return importers.import_pipelines(Path(path), job).as_dict()
