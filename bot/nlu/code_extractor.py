"""A Rasa entity extractor for dossier and procedure codes, by pattern over the raw text.

Word segmentation breaks codes apart (see FIELD_NOTES), so they are matched on the message
text; the value is the normalised code. Patterns come from the component config, or else from
the settings (``DOSSIER_CODE_PATTERN``, ``PROCEDURE_CODE_PATTERN``).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.codes import find_codes
from bot.settings import get_settings


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class CodeEntityExtractor(GraphComponent, EntityExtractorMixin):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"dossier_code_pattern": None, "procedure_code_pattern": None}

    def __init__(self, config: Dict[Text, Any]) -> None:
        settings = get_settings()
        self._patterns = {
            "dossier_code": config.get("dossier_code_pattern") or settings.dossier_code_pattern,
            "procedure_code": config.get("procedure_code_pattern") or settings.procedure_code_pattern,
        }

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "CodeEntityExtractor":
        return cls(config)

    def extract(self, text: str) -> List[Dict[Text, Any]]:
        entities: List[Dict[Text, Any]] = []
        taken: List[range] = []
        for entity, pattern in self._patterns.items():
            for match in find_codes(text, pattern):
                if any(match.start in span or match.end - 1 in span for span in taken):
                    continue
                taken.append(range(match.start, match.end))
                entities.append(
                    {
                        "entity": entity,
                        "start": match.start,
                        "end": match.end,
                        "value": match.value,
                        "extractor": self.name,
                        "confidence_entity": 1.0,
                    }
                )
        return entities

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text: Optional[str] = message.get(TEXT)
            if not text:
                continue
            found = self.extract(text)
            if found:
                message.set(ENTITIES, message.get(ENTITIES, []) + found, add_to_output=True)
        return messages
