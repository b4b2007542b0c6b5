"""What staff are told about supplies (push), in Simplified Chinese and English."""

from notifications.templates import register_template


def register_resources_templates() -> None:
    register_template("resources.low_stock.title", zh="物资不足：{item}", en="Low stock: {item}", max_segments=1)
    register_template(
        "resources.low_stock",
        zh="{warehouse}的{item}可用仅剩{available}{unit}，低于预警线{threshold}{unit}，请及时补充。",
        en="{warehouse} has only {available} {unit} of {item} free, below the threshold of {threshold}; please restock.",
    )
