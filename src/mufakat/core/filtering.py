"""One filter definition per model, read by the web UI, the API and the CLI.

Each module declares a django-filter FilterSet per list (`<module>/filtersets.py`, subclassing
`ScopedFilterSet`). The UI renders its `.form`; API list endpoints take their query parameters
from it through `@filtered(...)`; CLI commands pass `--filter key=value` pairs to it
(`from_pairs`). A FilterSet only narrows a queryset its caller already restricted, and every
look-up of a related record (an asset, a sharing group, an organisation) is scoped to what the
reader may see, so a forbidden id fails exactly like a missing one: same field, same message.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from functools import cache, wraps
from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from ninja import Field, Schema
from ninja.errors import ValidationError as NinjaValidationError
from ninja.params import functions as param_functions
from ninja.utils import contribute_operation_args
from pydantic import create_model

# The filter values ninja parses are not used (request.GET is the single source, validated by the
# FilterSet); the argument exists so ninja documents every filter and counts it as declared.
DOCS_ARG = "mufakat_filters"
MARK = "mufakat_filterset"


class ScopedFilterSet(django_filters.FilterSet):
    """A FilterSet that knows its reader (`user`, or `request.user`) and scopes look-ups to it.

    A bound FilterSet with an invalid value matches nothing (the form says which field is
    wrong), so a filter the reader got wrong never widens into "everything"."""

    def __init__(
        self,
        data: QueryDict | dict[str, Any] | None = None,
        queryset: QuerySet[Any] | None = None,
        *,
        user: Any = None,
        request: HttpRequest | None = None,
        prefix: str | None = None,
    ) -> None:
        if data is not None and not isinstance(data, QueryDict):
            data = to_querydict(data)
        if queryset is None:
            # Nothing to narrow yet (API/CLI validate first, then narrow the restricted set).
            queryset = self._meta.model._default_manager.none()  # type: ignore[attr-defined]
        super().__init__(data, queryset, request=request, prefix=prefix)
        self.reader = user if user is not None else getattr(request, "user", None)

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.is_bound and not self.is_valid():
            return queryset.none()
        return super().filter_queryset(queryset)

    def narrow[M: Model](self, queryset: QuerySet[M]) -> QuerySet[M]:
        """These filters applied to a queryset the caller restricted for the reader."""
        return self.filter_queryset(queryset)

    def error_dict(self) -> dict[str, list[str]]:
        return {name: [str(m) for m in msgs] for name, msgs in self.form.errors.items()}


def to_querydict(data: dict[str, Any] | Iterable[tuple[str, str]]) -> QueryDict:
    q = QueryDict(mutable=True)
    items = data.items() if isinstance(data, dict) else data
    for key, value in items:
        for v in value if isinstance(value, list | tuple) else [value]:
            q.appendlist(key, str(v))
    return q


class ScopedChoiceMixin:
    """For model-choice filters: the choices are `scope(reader)`, never the whole table."""

    def __init__(self, *args: Any, scope: Callable[[Any], QuerySet[Any]], **kwargs: Any) -> None:
        self.scope = scope
        kwargs.setdefault("queryset", scope)  # replaced per reader in get_queryset
        super().__init__(*args, **kwargs)

    def get_queryset(self, request: Any) -> QuerySet[Any]:
        return self.scope(getattr(getattr(self, "parent", None), "reader", None))


class ScopedModelChoiceFilter(ScopedChoiceMixin, django_filters.ModelChoiceFilter):
    pass


class ScopedModelMultipleChoiceFilter(ScopedChoiceMixin, django_filters.ModelMultipleChoiceFilter):
    pass


class _CodeChoiceField(forms.ModelChoiceField[Any]):
    """Organisation codes are case-insensitive for people and scripts alike."""

    def to_python(self, value: Any) -> Any:
        return super().to_python(value.upper() if isinstance(value, str) else value)


class OrganisationCodeFilter(ScopedModelChoiceFilter):
    field_class = _CodeChoiceField  # type: ignore[assignment]  # the stubs want the bare class


class _RawNullBooleanSelect(forms.NullBooleanSelect):
    """Django's any/yes/no select, handing the field what was sent rather than None for an
    unreadable value, so the field can refuse it."""

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        return data.get(name)


class _StrictBooleanField(forms.Field):
    """true/false (or 1/0, yes/no); anything else is an error rather than "no filter"."""

    widget = _RawNullBooleanSelect
    TRUE = frozenset({"true", "1", "2", "yes", "on"})  # "2"/"3": NullBooleanSelect's own values
    FALSE = frozenset({"false", "0", "3", "no", "off"})

    def to_python(self, value: Any) -> bool | None:
        if value in (None, "", "unknown"):
            return None
        text = str(value).strip().lower()
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise forms.ValidationError(
            forms.ChoiceField.default_error_messages["invalid_choice"],
            code="invalid_choice",
            params={"value": value},
        )


class StrictBooleanFilter(django_filters.Filter):
    field_class = _StrictBooleanField


# --- API -------------------------------------------------------------------------------------


def _describe(f: django_filters.Filter) -> tuple[Any, dict[str, Any]]:
    """(annotation, JSON-schema hints) for one filter, from its declared type and choices."""
    extra: dict[str, Any] = {}
    many = isinstance(
        f, django_filters.MultipleChoiceFilter | django_filters.ModelMultipleChoiceFilter
    )
    if isinstance(f, django_filters.ChoiceFilter) and "choices" in f.extra:
        choices = f.extra["choices"]
        extra["enum"] = [str(k) for k, _label in (choices() if callable(choices) else choices)]
    elif isinstance(f, StrictBooleanFilter):
        extra["enum"] = ["true", "false"]
    elif isinstance(f, django_filters.IsoDateTimeFilter | django_filters.DateTimeFilter):
        extra["format"] = "date-time"
    elif isinstance(f, django_filters.DateFilter):
        extra["format"] = "date"
    elif isinstance(f, django_filters.NumberFilter):
        extra["format"] = "number"
    return (list[str] if many else str), extra


@cache
def query_schema(filterset: type[ScopedFilterSet]) -> type[Schema]:
    """A ninja Schema naming every filter of `filterset`, for the OpenAPI parameter list."""
    fields: dict[str, Any] = {}
    for name, f in filterset.base_filters.items():
        annotation, extra = _describe(f)
        help_text = f.extra.get("help_text")
        label = str(f.label) if f.label else name
        description = f"{label}. {help_text}" if help_text else label
        fields[name] = (
            annotation | None,
            Field(None, description=description, json_schema_extra=extra or None),
        )
    return create_model(f"{filterset.__name__}Query", __base__=Schema, **fields)


def filter_errors(fs: ScopedFilterSet) -> list[dict[str, Any]]:
    """Form errors in ninja's 422 shape, each naming its query parameter."""
    return [
        {"type": "invalid_filter", "loc": ["query", name], "msg": msg}
        for name, msgs in fs.error_dict().items()
        for msg in msgs
    ]


def filtered[R](
    filterset: type[ScopedFilterSet],
) -> Callable[[Callable[..., R]], Callable[..., R]]:
    """API list endpoints: validate the query string with `filterset` and pass the bound,
    valid FilterSet to the view as `filters` (the view narrows its restricted queryset with
    `filters.narrow(qs)`). An invalid value answers 422 naming the parameter; unknown
    parameters are refused by `reject_unknown_query`. Put it under `@paginate`."""

    def decorate(view: Callable[..., R]) -> Callable[..., R]:
        signature = inspect.signature(view, eval_str=True)
        if "filters" not in signature.parameters:
            raise ImproperlyConfigured(f"{view.__qualname__} needs a `filters` parameter")

        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> R:
            kwargs.pop(DOCS_ARG, None)
            fs = filterset(request.GET, user=request.user, request=request)
            if not fs.is_valid():
                raise NinjaValidationError(filter_errors(fs))
            return view(request, *args, filters=fs, **kwargs)

        # ninja reads the parameters from this signature: `filters` is ours, not a query field.
        wrapper.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=[p for p in signature.parameters.values() if p.name != "filters"]
        )
        contribute_operation_args(
            wrapper, DOCS_ARG, query_schema(filterset), param_functions.Query(...)
        )
        setattr(wrapper, MARK, filterset)
        return wrapper

    return decorate


def declared_query_names(operation: Any) -> frozenset[str]:
    """Every query parameter the operation declares: its own, its filters, its pagination."""
    names: set[str] = set()
    for model in operation.models:
        if getattr(model, "__ninja_param_source__", None) != "query":
            continue
        flat = getattr(model, "__ninja_flatten_map__", None)
        names.update(flat if flat else (f.alias or n for n, f in model.model_fields.items()))
    return frozenset(names)


def reject_unknown_query(run: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """API decorator (`api.add_decorator(..., mode="view")`): an endpoint with `@filtered`
    answers 422 for a query parameter it does not declare, instead of silently ignoring a
    misspelt filter. Whatever pagination the endpoint uses declares its own parameters, so
    they are accepted without being named here."""
    operation = getattr(run, "__self__", None)
    if operation is None or getattr(operation.view_func, MARK, None) is None:
        return run
    allowed = declared_query_names(operation)

    @wraps(run)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        unknown = sorted(set(request.GET) - allowed)
        if unknown:
            errors = [
                {
                    "type": "unknown_parameter",
                    "loc": ["query", name],
                    "msg": f"Unknown query parameter; use one of {', '.join(sorted(allowed))}.",
                }
                for name in unknown
            ]
            return operation.api.create_response(request, {"detail": errors}, status=422)  # type: ignore[no-any-return]
        return run(request, *args, **kwargs)

    return checked


# --- CLI -------------------------------------------------------------------------------------


def from_pairs(
    filterset: type[ScopedFilterSet], pairs: Iterable[str], user: Any
) -> tuple[ScopedFilterSet | None, list[str]]:
    """`key=value` options (a CLI's `--filter`) through the same FilterSet: the bound filters,
    or None and one message per problem, naming the key."""
    known = set(filterset.base_filters)
    data: list[tuple[str, str]] = []
    problems: list[str] = []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep:
            problems.append(f"{pair!r}: write key=value")
        elif key not in known:
            problems.append(f"{key}: unknown filter; use one of {', '.join(sorted(known))}")
        else:
            data.append((key, value))
    if problems:
        return None, problems
    fs = filterset(to_querydict(data), user=user)
    if not fs.is_valid():
        return None, [f"{k}: {m}" for k, msgs in fs.error_dict().items() for m in msgs]
    return fs, []
