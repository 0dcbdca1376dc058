"""The platform's entity types, their fields and the rules for record input (pure).

See docs/decisions/0001-record-storage.md for why all types share one shape.
"""

from crmbridge.domain.entities.custom_fields import build_custom_field
from crmbridge.domain.entities.errors import FieldError, RecordValidationError
from crmbridge.domain.entities.fields import (
    CUSTOM_FIELD_TYPES,
    RECORD_META_FIELDS,
    FieldSpec,
    FieldType,
)
from crmbridge.domain.entities.registry import (
    ENTITY_TYPES,
    EntityType,
    entity_type_by_plural,
    get_entity_type,
)
from crmbridge.domain.entities.validation import (
    normalize_value,
    record_fields,
    validate_record_input,
)

__all__ = [
    "CUSTOM_FIELD_TYPES",
    "ENTITY_TYPES",
    "RECORD_META_FIELDS",
    "EntityType",
    "FieldError",
    "FieldSpec",
    "FieldType",
    "RecordValidationError",
    "build_custom_field",
    "entity_type_by_plural",
    "get_entity_type",
    "normalize_value",
    "record_fields",
    "validate_record_input",
]
