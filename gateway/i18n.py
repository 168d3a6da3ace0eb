"""Message catalog (message key and locale → template) and locale parsing (``en_US`` = ``en-US``).

A key is an error id from ``gateway/errors.py`` or a more specific message key an error or a
:class:`~gateway.errors.Detail` carries. Adding a message means adding one entry to ``CATALOG``
with the four locales; a key or locale that is missing, or a template whose parameters were not
given, falls back to the English text the raiser supplied, so translation never fails a request.
"""

# ruff: noqa: RUF001  (full-width punctuation is correct in Chinese and Japanese text)
from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Any

__all__ = [
    "CATALOG", "DEFAULT_LOCALE", "LOCALES", "UnknownLocale", "lookup", "parse_locale", "translate",
]

DEFAULT_LOCALE = "en-US"
LOCALES: tuple[str, ...] = ("en-US", "zh-CN", "ja-JP", "es-ES")
_BY_LOWER = {loc.lower(): loc for loc in LOCALES}
# A bare language picks its only region here; refuse rather than guess when that changes.
_BY_LANGUAGE = {loc.split("-")[0].lower(): loc for loc in LOCALES}


class UnknownLocale(ValueError):
    """The asked locale is not one the gateway speaks."""


def parse_locale(value: str | None) -> str:
    """``zh_CN``, ``zh-cn``, ``zh`` → ``zh-CN``; None or empty → the default; else UnknownLocale."""
    if value is None or not value.strip():
        return DEFAULT_LOCALE
    norm = value.strip().replace("_", "-").lower()
    found = _BY_LOWER.get(norm) or _BY_LANGUAGE.get(norm)
    if found is None:
        raise UnknownLocale(value)
    return found


def _t(en: str, zh: str, ja: str, es: str) -> dict[str, str]:
    return {"en-US": en, "zh-CN": zh, "ja-JP": ja, "es-ES": es}


CATALOG: dict[str, dict[str, str]] = {
    # error ids (gateway/errors.py): the generic message of each class
    "internal_error": _t(
        "Internal error; the request id identifies it in the gateway's logs",
        "内部错误；可凭请求 ID 在网关日志中查找",
        "内部エラーです。リクエスト ID でゲートウェイのログを確認できます",
        "Error interno; el id de la solicitud lo identifica en los registros del gateway",
    ),
    "invalid_request": _t(
        "The request is not valid; see details", "请求无效，详见 details",
        "リクエストが不正です。details を参照してください",
        "La solicitud no es válida; consulte details",
    ),
    "invalid_filter": _t(
        "The filter is not valid; see details", "过滤条件无效，详见 details",
        "フィルターが不正です。details を参照してください",
        "El filtro no es válido; consulte details",
    ),
    "invalid_order": _t(
        "The sort order is not valid; see details", "排序条件无效，详见 details",
        "並び順の指定が不正です。details を参照してください",
        "El orden no es válido; consulte details",
    ),
    "invalid_page": _t(
        "The page is not valid; see details", "分页参数无效，详见 details",
        "ページ指定が不正です。details を参照してください",
        "La página no es válida; consulte details",
    ),
    "unauthorized": _t(
        "A valid API key is required", "需要有效的 API 密钥", "有効な API キーが必要です",
        "Se requiere una clave de API válida",
    ),
    "forbidden": _t("Access denied", "拒绝访问", "アクセスが拒否されました", "Acceso denegado"),
    "not_found": _t("Not found", "未找到", "見つかりません", "No encontrado"),
    "method_not_allowed": _t(
        "This method is not allowed here", "此处不允许使用该方法",
        "ここではこのメソッドは使用できません", "Este método no está permitido aquí",
    ),
    "conflict": _t(
        "The record was changed by someone else (version mismatch)",
        "记录已被他人修改（版本不一致）",
        "レコードは他の人によって変更されています（バージョン不一致）",
        "Otra persona modificó el registro (la versión no coincide)",
    ),
    "payload_too_large": _t(
        "The request is too large", "请求过大", "リクエストが大きすぎます",
        "La solicitud es demasiado grande",
    ),
    "unsupported_media_type": _t(
        "The request body comes in a form the gateway cannot read",
        "网关无法读取该格式的请求体", "ゲートウェイはこの形式のリクエスト本文を読み取れません",
        "El gateway no puede leer el cuerpo de la solicitud en esta forma",
    ),
    "unsupported_content_encoding": _t(
        "Content-Encoding '{encoding}' is not supported; send the body as gzip, deflate or "
        "identity",
        "不支持 Content-Encoding '{encoding}'；请以 gzip、deflate 或 identity 发送请求体",
        "Content-Encoding '{encoding}' には対応していません。本文は gzip、deflate、identity "
        "のいずれかで送ってください",
        "Content-Encoding '{encoding}' no es compatible; envíe el cuerpo como gzip, deflate o "
        "identity",
    ),
    "bad_content_encoding": _t(
        "The body could not be decoded as {encoding}",
        "无法按 {encoding} 解码请求体", "本文を {encoding} としてデコードできません",
        "No se pudo decodificar el cuerpo como {encoding}",
    ),
    "duplicate_header": _t(
        "The header {header} is given more than once", "请求头 {header} 重复出现",
        "ヘッダー {header} が重複しています", "La cabecera {header} aparece más de una vez",
    ),
    "malformed_http": _t(
        "The request could not be read as HTTP/1.1 (request line, headers or framing)",
        "无法按 HTTP/1.1 读取该请求（请求行、请求头或分帧）",
        "リクエストを HTTP/1.1 として読み取れません（リクエスト行、ヘッダー、またはフレーミング）",
        "La solicitud no se pudo leer como HTTP/1.1 (línea de solicitud, cabeceras o "
        "delimitación)",
    ),
    "unsupported": _t(
        "This source cannot do this operation", "该数据源不支持此操作",
        "このソースはこの操作に対応していません", "Esta fuente no admite esta operación",
    ),
    "feature_pending": _t(
        "{feature} is not available on source {source} yet",
        "数据源 {source} 暂不支持 {feature}",
        "ソース {source} では {feature} はまだ利用できません",
        "{feature} aún no está disponible en la fuente {source}",
    ),
    "rate_limited": _t(
        "Too many requests; retry later", "请求过多，请稍后重试",
        "リクエストが多すぎます。しばらくしてから再試行してください",
        "Demasiadas solicitudes; vuelva a intentarlo más tarde",
    ),
    "backend_error": _t(
        "The backend answered with an error", "后端返回了错误", "バックエンドがエラーを返しました",
        "El backend respondió con un error",
    ),
    "backend_auth_failed": _t(
        "The backend refused the gateway's credentials", "后端拒绝了网关的凭据",
        "バックエンドがゲートウェイの認証情報を拒否しました",
        "El backend rechazó las credenciales del gateway",
    ),
    "backend_unavailable": _t(
        "The backend is unavailable; retry later", "后端暂不可用，请稍后重试",
        "バックエンドは現在利用できません。しばらくしてから再試行してください",
        "El backend no está disponible; vuelva a intentarlo más tarde",
    ),
    "backend_timeout": _t(
        "The backend did not answer in time", "后端未能及时响应",
        "バックエンドが時間内に応答しませんでした", "El backend no respondió a tiempo",
    ),
    "not_executed": _t(
        "Not executed because an earlier request failed", "由于之前的请求失败，未执行",
        "前のリクエストが失敗したため実行されませんでした",
        "No se ejecutó porque falló una solicitud anterior",
    ),
    "not_executed_stopped": _t(
        "Not executed: the bulk call was stopped before this entry was sent (its time limit "
        "passed, the client went away or the gateway is shutting down); it had no effect",
        "未执行：在发送此条目之前批量调用已停止（超出时间限制、客户端已断开或网关正在关闭），"
        "该条目没有产生任何效果",
        "実行されませんでした：このエントリを送信する前に一括呼び出しが停止されました"
        "（制限時間の超過、クライアントの切断、またはゲートウェイの停止）。影響はありません",
        "No se ejecutó: la llamada bulk se detuvo antes de enviar esta entrada (se agotó su "
        "tiempo, el cliente se desconectó o el gateway se está deteniendo); no tuvo efecto",
    ),
    # /v1/bulk (gateway/bulk)
    "bulk_too_large": _t(
        "A bulk call may carry at most {max} requests, not {count}",
        "一次批量调用最多包含 {max} 个请求，而不是 {count} 个",
        "一括呼び出しに含められるリクエストは最大 {max} 件です（{count} 件は不可）",
        "Una llamada masiva puede llevar como máximo {max} solicitudes, no {count}",
    ),
    "bulk_requests_not_list": _t(
        "requests must be a list of request objects", "requests 必须是请求对象的列表",
        "requests はリクエストオブジェクトのリストである必要があります",
        "requests debe ser una lista de objetos de solicitud",
    ),
    "bulk_entry_not_object": _t(
        "A request must be an object with url, method, data",
        "每个请求必须是包含 url、method、data 的对象",
        "各リクエストは url、method、data を持つオブジェクトである必要があります",
        "Cada solicitud debe ser un objeto con url, method y data",
    ),
    "bad_bulk_url_type": _t(
        "url must be a non-empty string", "url 必须是非空字符串",
        "url は空でない文字列である必要があります", "url debe ser una cadena no vacía",
    ),
    "bad_bulk_method_type": _t(
        "method must be a string", "method 必须是字符串", "method は文字列である必要があります",
        "method debe ser una cadena",
    ),
    "bad_bulk_header": _t(
        "A header must be a name and a string value", "请求头必须由名称和字符串值组成",
        "ヘッダーは名前と文字列の値である必要があります",
        "Una cabecera debe tener un nombre y un valor de texto",
    ),
    "bad_fail_on_first": _t(
        "failOnFirst must be true or false", "failOnFirst 必须为 true 或 false",
        "failOnFirst は true または false である必要があります",
        "failOnFirst debe ser true o false",
    ),
    "bad_bulk_url": _t(
        "The url must be a gateway path such as /v1/records/... ({reason})",
        "url 必须是网关路径，例如 /v1/records/...（不允许绝对 URL、'..' 或编码的分隔符）",
        "url は /v1/records/... のようなゲートウェイのパスである必要があります"
        "（絶対 URL、'..'、エンコードされた区切り文字は使用できません）",
        "La url debe ser una ruta del gateway como /v1/records/... "
        "(no se permiten URL absolutas, '..' ni separadores codificados)",
    ),
    "bad_bulk_method": _t(
        "Unknown method '{method}'; use GET, POST, PUT, PATCH or DELETE",
        "未知的方法 '{method}'，请使用 GET、POST、PUT、PATCH 或 DELETE",
        "不明なメソッド '{method}' です。"
        "GET、POST、PUT、PATCH、DELETE のいずれかを使用してください",
        "Método desconocido '{method}'; use GET, POST, PUT, PATCH o DELETE",
    ),
    "bad_bulk_data": _t(
        "data is a string that is not valid JSON: {error}", "data 是无效的 JSON 字符串：{error}",
        "data が正しい JSON の文字列ではありません: {error}",
        "data es una cadena que no es un JSON válido: {error}",
    ),
    "bulk_org_switch": _t(
        "An entry cannot switch orgId: this bulk call is for org '{org}'",
        "批量请求中的条目不能切换 orgId：本次批量调用属于组织 '{org}'",
        "エントリーで orgId を切り替えることはできません。"
        "この一括呼び出しは組織 '{org}' のものです",
        "Una entrada no puede cambiar el orgId: esta llamada masiva es de la organización '{org}'",
    ),
    "bulk_identity_switch": _t(
        "An entry cannot switch identity: its Authorization header differs from the bulk call's",
        "条目不能切换身份：其 Authorization 头与批量调用的不同",
        "エントリーで ID を切り替えることはできません。"
        "Authorization ヘッダーが一括呼び出しと異なります",
        "Una entrada no puede cambiar de identidad: su cabecera Authorization difiere de la "
        "de la llamada masiva",
    ),
    "bulk_recursive": _t(
        "A bulk entry cannot call /v1/bulk", "批量条目不能调用 /v1/bulk",
        "一括エントリーから /v1/bulk を呼び出すことはできません",
        "Una entrada masiva no puede llamar a /v1/bulk",
    ),
    "bulk_files_unsupported": _t(
        "File endpoints stream bytes and cannot be bulk entries; call them alone",
        "文件接口以流方式传输字节，不能作为批量条目，请单独调用",
        "ファイルのエンドポイントはバイトをストリームするため一括エントリーにできません。"
        "単独で呼び出してください",
        "Los endpoints de archivos transmiten bytes y no pueden ser entradas masivas; "
        "llámelos por separado",
    ),
    # authentication, tenancy and routing (gateway/http/middleware)
    "missing_api_key": _t(
        "Send your API key as 'Authorization: Bearer <key>'",
        "请以 'Authorization: Bearer <key>' 发送 API 密钥",
        "API キーを 'Authorization: Bearer <key>' で送信してください",
        "Envíe su clave de API como 'Authorization: Bearer <key>'",
    ),
    "unknown_api_key": _t(
        "The API key is not valid", "API 密钥无效", "API キーが無効です",
        "La clave de API no es válida",
    ),
    "missing_org": _t(
        "The orgId query parameter is required", "必须提供 orgId 查询参数",
        "クエリパラメーター orgId は必須です", "El parámetro de consulta orgId es obligatorio",
    ),
    "org_not_allowed": _t(
        "This API key may not access org '{org}'", "此 API 密钥无权访问组织 '{org}'",
        "この API キーは組織 '{org}' にアクセスできません",
        "Esta clave de API no puede acceder a la organización '{org}'",
    ),
    "source_not_allowed": _t(
        "This API key may not use source '{source}'", "此 API 密钥无权使用数据源 '{source}'",
        "この API キーはソース '{source}' を使用できません",
        "Esta clave de API no puede usar la fuente '{source}'",
    ),
    # consumer scopes and rate limit (gateway/http/middleware/consumers.py, limits.py)
    "entity_not_allowed": _t(
        "This API key may not use entity '{entity}'", "此 API 密钥无权使用实体 '{entity}'",
        "この API キーはエンティティ '{entity}' を使用できません",
        "Esta clave de API no puede usar la entidad '{entity}'",
    ),
    "related_not_allowed": _t(
        "This API key may not filter or sort on '{field}': it reads a related record of an "
        "entity this key may not use (only its id, or whether it is set)",
        "此 API 密钥无权按 '{field}' 筛选或排序：它读取的是此密钥无权使用的实体的关联记录"
        "（只能使用其 id 或判断是否为空）",
        "この API キーは '{field}' でフィルターまたは並べ替えできません：使用できないエンティティの"
        "関連レコードを読み取ります（id または設定の有無のみ可）",
        "Esta clave de API no puede filtrar ni ordenar por '{field}': lee un registro relacionado "
        "de una entidad que no puede usar (solo su id, o si tiene valor)",
    ),
    "operation_not_allowed": _t(
        "This API key may not perform '{operation}' operations (it may: {allowed})",
        "此 API 密钥无权执行 '{operation}' 操作（允许：{allowed}）",
        "この API キーは '{operation}' 操作を実行できません（許可: {allowed}）",
        "Esta clave de API no puede realizar operaciones '{operation}' (puede: {allowed})",
    ),
    "consumer_rate_limited": _t(
        "Rate limit of {consumer} exceeded; retry in {seconds} s",
        "{consumer} 已超出速率限制，请在 {seconds} 秒后重试",
        "{consumer} のレート制限を超えました。{seconds} 秒後に再試行してください",
        "Se superó el límite de solicitudes de {consumer}; reintente en {seconds} s",
    ),
    "consumer_share_full": _t(
        "This API key already has {limit} calls in flight to {source}, its share of the "
        "source (maxInFlightPerConsumer); retry shortly",
        "此 API 密钥已有 {limit} 个发往 {source} 的调用在进行中，达到其在该数据源的份额"
        "（maxInFlightPerConsumer）；请稍后重试",
        "この API キーは {source} への呼び出しをすでに {limit} 件実行中で、このソースの割り当て"
        "（maxInFlightPerConsumer）に達しています。しばらくしてから再試行してください",
        "Esta clave de API ya tiene {limit} llamadas en curso a {source}, su parte de la fuente "
        "(maxInFlightPerConsumer); reintente en breve",
    ),
    # budgets (gateway/budgets.py)
    "budget_exceeded": _t(
        "This request goes over the {budget} budget of {limit} (it needs {needed}); split it "
        "into smaller requests or narrow it",
        "此请求超出了 {budget} 预算 {limit}（需要 {needed}）；请拆分为更小的请求或缩小范围",
        "このリクエストは {budget} の予算 {limit} を超えます（必要量 {needed}）。"
        "より小さなリクエストに分割するか、範囲を絞り込んでください",
        "Esta solicitud supera el presupuesto {budget} de {limit} (necesita {needed}); "
        "divídala en solicitudes más pequeñas o acótela",
    ),
    "budget_rate_limited": _t(
        "{consumer} is over its {budget} budget of {limit}; retry in {seconds} s",
        "{consumer} 已超出其 {budget} 预算 {limit}；请在 {seconds} 秒后重试",
        "{consumer} は {budget} の予算 {limit} を超えています。{seconds} 秒後に再試行してください",
        "{consumer} superó su presupuesto {budget} de {limit}; reintente en {seconds} s",
    ),
    "state_unavailable": _t(
        "The gateway's state store is unavailable", "网关的状态存储不可用",
        "ゲートウェイの状態ストアを利用できません",
        "El almacén de estado del gateway no está disponible",
    ),
    "state_full": _t(
        "The gateway's state store is full; retry later", "网关的状态存储已满，请稍后重试",
        "ゲートウェイの状態ストアがいっぱいです。後で再試行してください",
        "El almacén de estado del gateway está lleno; reintente más tarde",
    ),
    # record locks (gateway/state/lock.py)
    "record_busy": _t(
        "Another write to this record is in progress; retry shortly",
        "此记录的另一个写入正在进行中，请稍后重试",
        "このレコードへの別の書き込みが進行中です。しばらくしてから再試行してください",
        "Hay otra escritura en curso sobre este registro; reintente en breve",
    ),
    # Idempotency-Key (gateway/http/middleware/idempotency.py)
    "idempotency_key_repeated": _t(
        "The Idempotency-Key header is given more than once", "Idempotency-Key 头重复出现",
        "Idempotency-Key ヘッダーが複数回指定されています",
        "La cabecera Idempotency-Key aparece más de una vez",
    ),
    "idempotency_key_empty": _t(
        "The Idempotency-Key header is empty", "Idempotency-Key 头为空",
        "Idempotency-Key ヘッダーが空です", "La cabecera Idempotency-Key está vacía",
    ),
    "idempotency_key_too_long": _t(
        "The Idempotency-Key header is longer than {max} characters",
        "Idempotency-Key 头超过 {max} 个字符",
        "Idempotency-Key ヘッダーが {max} 文字を超えています",
        "La cabecera Idempotency-Key tiene más de {max} caracteres",
    ),
    "idempotency_key_invalid": _t(
        "The Idempotency-Key header must be printable ASCII",
        "Idempotency-Key 头必须是可打印的 ASCII 字符",
        "Idempotency-Key ヘッダーは印字可能な ASCII 文字である必要があります",
        "La cabecera Idempotency-Key debe ser ASCII imprimible",
    ),
    "idempotency_key_mismatch": _t(
        "This Idempotency-Key was already used with a different request; use a new key",
        "此 Idempotency-Key 已用于另一个不同的请求，请使用新的键",
        "この Idempotency-Key は別のリクエストで使用済みです。新しいキーを使用してください",
        "Esta Idempotency-Key ya se usó con otra solicitud; use una clave nueva",
    ),
    "idempotency_answer_not_kept": _t(
        "The request with this Idempotency-Key already ran, but its answer could not be kept; "
        "look at the result before writing again under a new key",
        "使用此 Idempotency-Key 的请求已执行，但其响应未能保存；请先查看结果，再使用新的键写入",
        "この Idempotency-Key のリクエストは実行済みですが、応答を保存できませんでした。"
        "新しいキーで再度書き込む前に結果を確認してください",
        "La solicitud con esta Idempotency-Key ya se ejecutó, pero su respuesta no pudo "
        "guardarse; compruebe el resultado antes de volver a escribir con una clave nueva",
    ),
    "idempotency_quota": _t(
        "{consumer} holds {limit} unexpired Idempotency-Keys, its quota; retry in {seconds} s "
        "or send writes without a key",
        "{consumer} 持有的未过期 Idempotency-Key 已达配额 {limit} 个；请在 {seconds} 秒后重试，"
        "或不带键发送写入请求",
        "{consumer} は有効期限内の Idempotency-Key を上限の {limit} 個保持しています。"
        "{seconds} 秒後に再試行するか、キーなしで書き込みを送信してください",
        "{consumer} tiene {limit} Idempotency-Keys sin caducar, su cuota; reintente en "
        "{seconds} s o envíe las escrituras sin clave",
    ),
    "idempotency_key_in_progress": _t(
        "A request with this Idempotency-Key is still being processed; retry shortly",
        "使用此 Idempotency-Key 的请求仍在处理中，请稍后重试",
        "この Idempotency-Key のリクエストはまだ処理中です。しばらくしてから再試行してください",
        "Una solicitud con esta Idempotency-Key aún se está procesando; reintente en breve",
    ),
    "unknown_locale": _t(
        "Unknown locale '{locale}'; use one of {locales}",
        "未知的语言区域 '{locale}'，可用值：{locales}",
        "不明なロケール '{locale}' です。次のいずれかを指定してください: {locales}",
        "Configuración regional '{locale}' desconocida; use una de {locales}",
    ),
    "no_route": _t(
        "There is no endpoint at {path}", "{path} 处没有接口",
        "{path} にエンドポイントはありません", "No hay ningún endpoint en {path}",
    ),
    "body_too_large": _t(
        "The body is larger than {max} bytes", "请求体超过 {max} 字节",
        "本文が {max} バイトを超えています", "El cuerpo supera los {max} bytes",
    ),
    # request bodies and records (gateway/http/handlers)
    "bad_json": _t(
        "Not valid JSON: {error}", "不是有效的 JSON：{error}",
        "正しい JSON ではありません: {error}", "No es un JSON válido: {error}",
    ),
    "not_an_object": _t(
        "A JSON object is expected here", "此处需要 JSON 对象",
        "ここには JSON オブジェクトが必要です", "Aquí se espera un objeto JSON",
    ),
    "id_mismatch": _t(
        "The id in the body differs from the id in the path", "请求体中的 id 与路径中的 id 不一致",
        "本文の id がパスの id と一致しません", "El id del cuerpo no coincide con el id de la ruta",
    ),
    "version_mismatch": _t(
        "The version in the body differs from the If-Match header",
        "请求体中的 version 与 If-Match 头不一致",
        "本文の version が If-Match ヘッダーと一致しません",
        "La versión del cuerpo no coincide con la cabecera If-Match",
    ),
    "duplicate_param": _t(
        "The parameter is given more than once", "参数重复出现", "パラメーターが重複しています",
        "El parámetro aparece más de una vez",
    ),
    "unknown_source": _t(
        "Unknown source '{source}'", "未知的数据源 '{source}'", "不明なソース '{source}' です",
        "Fuente desconocida '{source}'",
    ),
    "unknown_entity": _t(
        "Unknown entity '{entity}'", "未知的实体 '{entity}'", "不明なエンティティ '{entity}' です",
        "Entidad desconocida '{entity}'",
    ),
    "record_not_found": _t(
        "Record {id} was not found in {source}/{entity}", "在 {source}/{entity} 中未找到记录 {id}",
        "{source}/{entity} にレコード {id} が見つかりません",
        "No se encontró el registro {id} en {source}/{entity}",
    ),
    # files on record fields (gateway/http/handlers/files.py, connectors)
    "file_not_found": _t(
        "Record {id} in {source}/{entity} has no file in field {field}",
        "{source}/{entity} 中记录 {id} 的字段 {field} 没有文件",
        "{source}/{entity} のレコード {id} のフィールド {field} にファイルがありません",
        "El registro {id} de {source}/{entity} no tiene ningún archivo en el campo {field}",
    ),
    "field_not_found": _t(
        "Field '{field}' was not found in {source}/{entity}",
        "在 {source}/{entity} 中未找到字段 '{field}'",
        "{source}/{entity} にフィールド '{field}' が見つかりません",
        "No se encontró el campo '{field}' en {source}/{entity}",
    ),
    "not_a_file_field": _t(
        "Field '{field}' of {entity} does not hold files", "{entity} 的字段 '{field}' 不能存放文件",
        "{entity} のフィールド '{field}' はファイルを保持できません",
        "El campo '{field}' de {entity} no admite archivos",
    ),
    "files_unsupported": _t(
        "Source {source} cannot store files on record fields",
        "数据源 {source} 不支持在记录字段上存放文件",
        "ソース {source} はレコードのフィールドにファイルを保存できません",
        "La fuente {source} no puede guardar archivos en campos de registros",
    ),
    "writes_unsupported": _t(
        "Source {source} cannot write records",
        "数据源 {source} 不支持写入记录",
        "ソース {source} はレコードを書き込めません",
        "La fuente {source} no puede escribir registros",
    ),
    "missing_file_part": _t(
        "The multipart body has no part named 'file'", "multipart 请求体中没有名为 'file' 的部分",
        "multipart 本文に 'file' という名前のパートがありません",
        "El cuerpo multipart no tiene ninguna parte llamada 'file'",
    ),
    "bad_multipart": _t(
        "The multipart body is malformed: {error}", "multipart 请求体格式错误：{error}",
        "multipart 本文の形式が不正です: {error}", "El cuerpo multipart está mal formado: {error}",
    ),
    "bad_filename": _t(
        "The file name must be 1 to 255 characters without control characters",
        "文件名必须为 1 到 255 个字符，且不含控制字符",
        "ファイル名は制御文字を含まない 1〜255 文字である必要があります",
        "El nombre de archivo debe tener de 1 a 255 caracteres sin caracteres de control",
    ),
    "upload_interrupted": _t(
        "The upload ended before the whole file arrived", "上传在文件完整到达之前中断",
        "ファイル全体が届く前にアップロードが終了しました",
        "La subida terminó antes de que llegara el archivo completo",
    ),
    "upload_stalled": _t(
        "No upload data arrived for {seconds} seconds; the upload was abandoned, send the file "
        "again", "已有 {seconds} 秒没有收到上传数据；上传已放弃，请重新发送文件",
        "{seconds} 秒間アップロードデータが届かなかったため、アップロードを中止しました。"
        "ファイルを再送してください",
        "No llegaron datos de la subida durante {seconds} segundos; se abandonó la subida, "
        "envíe el archivo de nuevo",
    ),
    # query parser details (gateway/query/parse.py MESSAGES; same keys and placeholders)
    "body_not_object": _t(
        "The request body must be a JSON object", "请求体必须是 JSON 对象",
        "リクエスト本文は JSON オブジェクトである必要があります",
        "El cuerpo de la solicitud debe ser un objeto JSON",
    ),
    "filter_not_list": _t(
        "The filter must be a list of groups, each a list of conditions",
        "filter 必须是由条件组构成的列表，每个组是条件列表",
        "filter はグループのリストで、各グループは条件のリストである必要があります",
        "El filtro debe ser una lista de grupos, cada uno una lista de condiciones",
    ),
    "group_not_list": _t(
        "A filter group must be a list of conditions", "过滤组必须是条件列表",
        "フィルターグループは条件のリストである必要があります",
        "Un grupo de filtro debe ser una lista de condiciones",
    ),
    "empty_group": _t(
        "A filter group must hold at least one condition", "过滤组至少需要一个条件",
        "フィルターグループには少なくとも 1 つの条件が必要です",
        "Un grupo de filtro debe contener al menos una condición",
    ),
    "condition_not_object": _t(
        "A condition must be an object with field, operator and value",
        "条件必须是包含 field、operator 和 value 的对象",
        "条件は field、operator、value を持つオブジェクトである必要があります",
        "Una condición debe ser un objeto con field, operator y value",
    ),
    "missing_field": _t(
        "The field is missing", "缺少 field", "field がありません", "Falta el campo field",
    ),
    "bad_field_name": _t(
        "A field name must be a non-empty string", "字段名必须是非空字符串",
        "フィールド名は空でない文字列である必要があります",
        "El nombre de campo debe ser una cadena no vacía",
    ),
    "bad_record_id": _t(
        "'{id}' is not a record id of {source}: ids there are {shape}",
        "'{id}' 不是 {source} 的记录 ID：那里的 ID 是 {shape}",
        "'{id}' は {source} のレコード ID ではありません（ID の形式: {shape}）",
        "'{id}' no es un id de registro de {source}: allí los ids son {shape}",
    ),
    "unsafe_segment": _t(
        "'{value}' cannot name a backend record, entity or field",
        "'{value}' 不能用作后端记录、实体或字段的名称",
        "'{value}' はバックエンドのレコード、エンティティ、フィールドの名前にできません",
        "'{value}' no puede nombrar un registro, entidad o campo del backend",
    ),
    "unknown_field": _t(
        "Unknown field '{field}' in {entity}", "{entity} 中没有字段 '{field}'",
        "{entity} に不明なフィールド '{field}' があります",
        "Campo desconocido '{field}' en {entity}",
    ),
    "field_not_filterable": _t(
        "Field '{field}' cannot be used in a filter", "字段 '{field}' 不能用于过滤",
        "フィールド '{field}' はフィルターに使用できません",
        "El campo '{field}' no se puede usar en un filtro",
    ),
    "field_not_sortable": _t(
        "Field '{field}' cannot be used to order records", "字段 '{field}' 不能用于排序",
        "フィールド '{field}' は並べ替えに使用できません",
        "El campo '{field}' no se puede usar para ordenar",
    ),
    "missing_operator": _t(
        "The operator is missing", "缺少运算符", "演算子がありません", "Falta el operador",
    ),
    "unknown_key": _t(
        "Unknown key '{key}'", "未知的键 '{key}'", "不明なキー '{key}' です",
        "Clave desconocida '{key}'",
    ),
    "bad_operator": _t(
        "Unknown operator '{operator}'; use one of {allowed}",
        "未知的运算符 '{operator}'，可用：{allowed}",
        "不明な演算子 '{operator}' です。次のいずれかを使用してください: {allowed}",
        "Operador desconocido '{operator}'; use uno de {allowed}",
    ),
    "missing_value": _t(
        "Operator '{operator}' needs a value", "运算符 '{operator}' 需要一个值",
        "演算子 '{operator}' には値が必要です", "El operador '{operator}' necesita un valor",
    ),
    "null_value": _t(
        "Operator '{operator}' cannot compare with null; use isNull or isNotNull",
        "运算符 '{operator}' 不能与 null 比较，请使用 isNull 或 isNotNull",
        "演算子 '{operator}' は null と比較できません。isNull または isNotNull を使用してください",
        "El operador '{operator}' no puede comparar con null; use isNull o isNotNull",
    ),
    "unexpected_value": _t(
        "Operator '{operator}' takes no value", "运算符 '{operator}' 不接受值",
        "演算子 '{operator}' は値を取りません", "El operador '{operator}' no admite valor",
    ),
    "bad_value": _t(
        "The value must be a string, number, boolean or null",
        "值必须是字符串、数字、布尔值或 null",
        "値は文字列、数値、真偽値、または null である必要があります",
        "El valor debe ser una cadena, un número, un booleano o null",
    ),
    "bad_list_value": _t(
        "Operator '{operator}' needs a JSON array or a comma-separated string",
        "运算符 '{operator}' 需要 JSON 数组或逗号分隔的字符串",
        "演算子 '{operator}' には JSON 配列またはカンマ区切りの文字列が必要です",
        "El operador '{operator}' necesita un array JSON o una cadena separada por comas",
    ),
    "bad_list_item": _t(
        "A list item must be a string, number or boolean", "列表项必须是字符串、数字或布尔值",
        "リストの要素は文字列、数値、または真偽値である必要があります",
        "Un elemento de la lista debe ser una cadena, un número o un booleano",
    ),
    "empty_list": _t(
        "Operator '{operator}' needs at least one value", "运算符 '{operator}' 至少需要一个值",
        "演算子 '{operator}' には少なくとも 1 つの値が必要です",
        "El operador '{operator}' necesita al menos un valor",
    ),
    "bad_value_type": _t(
        "'{value}' is not a valid {type} for field '{field}'",
        "'{value}' 不是字段 '{field}' 的有效 {type} 值",
        "'{value}' はフィールド '{field}' の有効な {type} ではありません",
        "'{value}' no es un {type} válido para el campo '{field}'",
    ),
    "order_not_list": _t(
        "orderBy must be a list of {{field, order}} objects",
        "orderBy 必须是 {{field, order}} 对象的列表",
        "orderBy は {{field, order}} オブジェクトのリストである必要があります",
        "orderBy debe ser una lista de objetos {{field, order}}",
    ),
    "order_item_not_object": _t(
        "An orderBy entry must be an object with field and order",
        "orderBy 的每一项必须是包含 field 和 order 的对象",
        "orderBy の各要素は field と order を持つオブジェクトである必要があります",
        "Cada entrada de orderBy debe ser un objeto con field y order",
    ),
    "bad_order": _t(
        "Order must be ASC or DESC, not '{order}'", "排序方向必须为 ASC 或 DESC，而不是 '{order}'",
        "並び順は ASC または DESC で指定してください（'{order}' は不可）",
        "El orden debe ser ASC o DESC, no '{order}'",
    ),
    "duplicate_order_field": _t(
        "Field '{field}' appears more than once in orderBy",
        "字段 '{field}' 在 orderBy 中出现了多次",
        "フィールド '{field}' が orderBy に複数回指定されています",
        "El campo '{field}' aparece más de una vez en orderBy",
    ),
    "fields_not_list": _t(
        "fields must be a comma-separated string or a list of field names",
        "fields 必须是逗号分隔的字符串或字段名列表",
        "fields はカンマ区切りの文字列またはフィールド名のリストである必要があります",
        "fields debe ser una cadena separada por comas o una lista de nombres de campo",
    ),
    "not_integer": _t(
        "{name} must be an integer", "{name} 必须是整数", "{name} は整数である必要があります",
        "{name} debe ser un número entero",
    ),
    "page_size_range": _t(
        "pageSize must be between 1 and {max}", "pageSize 必须在 1 到 {max} 之间",
        "pageSize は 1 から {max} の間で指定してください", "pageSize debe estar entre 1 y {max}",
    ),
    "page_no_range": _t(
        "pageNo must be 1 or more", "pageNo 必须大于或等于 1", "pageNo は 1 以上で指定してください",
        "pageNo debe ser 1 o mayor",
    ),
    "page_too_far": _t(
        "pageNo and pageSize may skip at most {max} records",
        "pageNo 与 pageSize 最多可跳过 {max} 条记录",
        "pageNo と pageSize でスキップできるレコードは最大 {max} 件です",
        "pageNo y pageSize pueden saltar como máximo {max} registros",
    ),
    # query bounds (gateway/query/limits.py, reported by the parser)
    "too_deep": _t(
        "Lists and objects nest deeper than {max} levels", "列表和对象的嵌套超过 {max} 层",
        "リストとオブジェクトの入れ子が {max} 階層を超えています",
        "Las listas y objetos se anidan más de {max} niveles",
    ),
    "too_many_groups": _t(
        "A filter may hold at most {max} groups", "过滤条件最多可包含 {max} 个组",
        "フィルターに含められるグループは最大 {max} 個です",
        "Un filtro puede contener como máximo {max} grupos",
    ),
    "too_many_conditions": _t(
        "A filter group may hold at most {max} conditions", "过滤组最多可包含 {max} 个条件",
        "フィルターグループに含められる条件は最大 {max} 個です",
        "Un grupo de filtro puede contener como máximo {max} condiciones",
    ),
    "too_many_filter_conditions": _t(
        "A filter may hold at most {max} conditions in all", "过滤条件总共最多可包含 {max} 个条件",
        "フィルター全体に含められる条件は最大 {max} 個です",
        "Un filtro puede contener como máximo {max} condiciones en total",
    ),
    "too_many_values": _t(
        "Operator '{operator}' takes at most {max} values",
        "运算符 '{operator}' 最多接受 {max} 个值",
        "演算子 '{operator}' に指定できる値は最大 {max} 個です",
        "El operador '{operator}' admite como máximo {max} valores",
    ),
    "value_too_long": _t(
        "A value may hold at most {max} characters", "值最多可包含 {max} 个字符",
        "値に含められる文字は最大 {max} 文字です",
        "Un valor puede contener como máximo {max} caracteres",
    ),
    "name_too_long": _t(
        "A field name may hold at most {max} characters", "字段名最多可包含 {max} 个字符",
        "フィールド名に含められる文字は最大 {max} 文字です",
        "Un nombre de campo puede contener como máximo {max} caracteres",
    ),
    "too_many_order_keys": _t(
        "orderBy may hold at most {max} entries", "orderBy 最多可包含 {max} 项",
        "orderBy に含められる項目は最大 {max} 個です",
        "orderBy puede contener como máximo {max} entradas",
    ),
    "too_many_fields": _t(
        "fields may name at most {max} fields", "fields 最多可列出 {max} 个字段",
        "fields に指定できるフィールドは最大 {max} 個です",
        "fields puede nombrar como máximo {max} campos",
    ),
    # query execution (gateway/query/execute.py)
    "scan_too_large": _t(
        "This query would need the gateway to read more than {limit} "
        "records of {source}/{entity}; narrow the filter",
        "该查询需要网关读取 {source}/{entity} 中超过 {limit} 条记录，请缩小过滤范围",
        "このクエリでは {source}/{entity} の {limit} "
        "件を超えるレコードを読み込む必要があります。フィルターを絞り込んでください",
        "Esta consulta obligaría al gateway a leer más de {limit} "
        "registros de {source}/{entity}; restrinja el filtro",
    ),
    "paging_stuck": _t(
        "The backend's paging of {source}/{entity} does not advance",
        "后端对 {source}/{entity} 的分页没有前进",
        "{source}/{entity} のバックエンドのページングが進みません",
        "La paginación del backend de {source}/{entity} no avanza",
    ),
    "record_without_id": _t(
        "The backend returned a record of {source}/{entity} without an id",
        "后端返回了 {source}/{entity} 中没有 id 的记录",
        "バックエンドが {source}/{entity} の id のないレコードを返しました",
        "El backend devolvió un registro de {source}/{entity} sin id",
    ),
}


class _Strict(dict[str, Any]):
    """Format mapping that refuses unknown placeholders, so we fall back instead of printing
    ``{field}`` to a user."""

    def __missing__(self, key: str) -> Any:
        raise KeyError(key)


_FORMATTER = string.Formatter()


def lookup(key: str | None, locale: str, params: Mapping[str, Any] | None = None) -> str | None:
    """The catalog's text for ``key`` in ``locale`` (English if that locale lacks it), filled
    with ``params``; None when there is no such key or the template cannot be filled."""
    entry = CATALOG.get(key or "")
    if entry is None:
        return None
    template = entry.get(locale) or entry.get(DEFAULT_LOCALE)
    if template is None:
        return None
    try:
        return _FORMATTER.vformat(template, (), _Strict(params or {}))
    except (KeyError, IndexError, ValueError, AttributeError):
        return None


def translate(
    key: str | None, locale: str, params: Mapping[str, Any] | None = None, default: str = ""
) -> str:
    """The message for ``key`` in ``locale``; ``default`` (the raiser's English text, else the
    key itself) when the catalog has no such key or the template cannot be filled."""
    text = lookup(key, locale, params)
    if text is None:
        return default or (key or "")
    return text
