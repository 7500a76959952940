"""A procedure catalogue shaped like Núi Thành's in 2023: 278 district-level and 114 commune-level procedures.

Each procedure has the one-stop-shop's own code (``NT-HT-001``), the national code (MaTTHC) the national portal
knows, a field (lĩnh vực), an online service level (over 80% partly or fully online), a statutory processing time,
its dossier components and its fees. Everything derives from the seed, so two runs with one seed agree.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal

DISTRICT_PROCEDURES = 278
COMMUNE_PROCEDURES = 114

# (field code, field name, objects a procedure is about); the objects make procedure names read like the real ones.
_DISTRICT_FIELDS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "DD",
        "Đất đai",
        (
            "giấy chứng nhận quyền sử dụng đất",
            "quyền sở hữu nhà ở và tài sản gắn liền với đất",
            "chuyển mục đích sử dụng đất",
            "tách thửa, hợp thửa đất",
            "giao đất, cho thuê đất",
        ),
    ),
    (
        "XD",
        "Xây dựng",
        (
            "giấy phép xây dựng nhà ở riêng lẻ",
            "giấy phép sửa chữa, cải tạo công trình",
            "giấy phép di dời công trình",
            "thẩm định báo cáo kinh tế - kỹ thuật",
        ),
    ),
    (
        "KD",
        "Thành lập và hoạt động của hộ kinh doanh",
        ("đăng ký hộ kinh doanh", "nội dung đăng ký hộ kinh doanh", "tạm ngừng kinh doanh của hộ kinh doanh"),
    ),
    (
        "CT",
        "Chứng thực",
        (
            "bản sao từ bản chính giấy tờ, văn bản",
            "chữ ký trong giấy tờ, văn bản",
            "hợp đồng, giao dịch liên quan đến tài sản",
        ),
    ),
    (
        "HT",
        "Hộ tịch",
        (
            "khai sinh có yếu tố nước ngoài",
            "kết hôn có yếu tố nước ngoài",
            "thay đổi, cải chính, bổ sung hộ tịch",
            "xác định lại dân tộc",
        ),
    ),
    (
        "GD",
        "Giáo dục và Đào tạo",
        (
            "thành lập trường mầm non tư thục",
            "cho phép trường tiểu học hoạt động giáo dục",
            "chuyển trường đối với học sinh trung học cơ sở",
        ),
    ),
    (
        "LD",
        "Lao động - Thương binh và Xã hội",
        (
            "trợ cấp xã hội hằng tháng",
            "hỗ trợ chi phí mai táng",
            "xác nhận hộ nghèo, hộ cận nghèo",
            "trợ giúp xã hội khẩn cấp",
        ),
    ),
    (
        "TN",
        "Tài nguyên và Môi trường",
        ("kế hoạch bảo vệ môi trường", "khai thác, sử dụng nước mặt", "xác nhận đăng ký môi trường"),
    ),
    (
        "CTH",
        "Công thương",
        (
            "giấy phép bán lẻ sản phẩm rượu",
            "giấy phép bán lẻ sản phẩm thuốc lá",
            "giấy chứng nhận đủ điều kiện kinh doanh khí",
        ),
    ),
    (
        "NN",
        "Nông nghiệp và Phát triển nông thôn",
        ("giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm", "hỗ trợ khôi phục sản xuất vùng bị thiệt hại"),
    ),
    ("VH", "Văn hóa và Thông tin", ("giấy phép kinh doanh karaoke", "thư viện cộng đồng", "lễ hội truyền thống")),
    ("YT", "Y tế", ("giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm trong kinh doanh dịch vụ ăn uống",)),
    ("NV", "Nội vụ", ("thành lập hội", "công nhận ban vận động thành lập hội", "sinh hoạt tôn giáo tập trung")),
    ("TC", "Tài chính", ("phê duyệt quyết toán vốn đầu tư dự án hoàn thành", "mua sắm tài sản công")),
    ("GT", "Giao thông vận tải", ("giấy phép thi công công trình đường bộ", "đăng ký phương tiện thủy nội địa")),
    ("TD", "Thi đua - Khen thưởng", ("tặng giấy khen của Chủ tịch UBND cấp huyện", "danh hiệu Lao động tiên tiến")),
)
_COMMUNE_FIELDS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "HT",
        "Hộ tịch",
        (
            "khai sinh",
            "khai tử",
            "kết hôn",
            "nhận cha, mẹ, con",
            "giám hộ",
            "xác nhận tình trạng hôn nhân",
            "trích lục hộ tịch",
        ),
    ),
    (
        "CT",
        "Chứng thực",
        ("bản sao từ bản chính giấy tờ, văn bản", "chữ ký người dịch", "hợp đồng, giao dịch về nhà ở"),
    ),
    (
        "LD",
        "Bảo trợ xã hội",
        ("trợ cấp xã hội hằng tháng cho người cao tuổi", "xác định mức độ khuyết tật", "hỗ trợ chi phí mai táng"),
    ),
    ("DD", "Đất đai", ("hòa giải tranh chấp đất đai", "xác nhận nguồn gốc đất")),
    ("NN", "Nông nghiệp", ("xác nhận kinh tế trang trại", "hỗ trợ giống cây trồng")),
    ("VH", "Văn hóa cơ sở", ("công nhận gia đình văn hóa", "công nhận thôn văn hóa")),
    ("TD", "Thi đua - Khen thưởng", ("tặng giấy khen của Chủ tịch UBND cấp xã",)),
    ("TG", "Tôn giáo", ("đăng ký sinh hoạt tôn giáo tập trung", "thông báo danh mục hoạt động tôn giáo")),
)
_VERBS = (
    "Cấp",
    "Cấp lại",
    "Cấp đổi",
    "Đăng ký",
    "Điều chỉnh",
    "Gia hạn",
    "Xác nhận",
    "Thay đổi",
    "Thu hồi",
    "Công nhận",
    "Thẩm định",
    "Giải quyết",
)
_COMPONENTS = (
    "Tờ khai theo mẫu",
    "Bản sao giấy tờ tùy thân",
    "Giấy tờ chứng minh nơi cư trú",
    "Bản vẽ hiện trạng",
    "Giấy ủy quyền",
    "Văn bản đề nghị",
    "Biên bản xác minh",
    "Sơ đồ vị trí",
)
_FEE_AMOUNTS = (
    Decimal(5000),
    Decimal(10000),
    Decimal(20000),
    Decimal(50000),
    Decimal(100000),
    Decimal(150000),
    Decimal(500000),
    Decimal(1000000),
)


@dataclass(frozen=True, slots=True)
class FeeRule:
    """A fee the procedure charges: ``kind`` is ``LEPHI`` (lệ phí) or ``PHI`` (phí)."""

    code: str
    name: str
    amount: Decimal
    kind: str


@dataclass(frozen=True, slots=True)
class Procedure:
    """One administrative procedure as the one-stop-shop lists it."""

    local_code: str  # MaThuTuc, the vendor's own code
    national_code: str  # MaTTHC on the national portal
    name: str
    level: str  # "district" or "commune": the level that decides it
    field_code: str
    field_name: str
    service_level: int  # 4 fully online, 3 partly online, 2 information only
    processing_days: int  # statutory processing time
    components: tuple[tuple[str, str], ...]  # (MaThanhPhan, name)
    fees: tuple[FeeRule, ...]
    inter_level: bool  # a commune may receive it and transfer it to the district (liên thông)


@dataclass(frozen=True, slots=True)
class Catalogue:
    procedures: tuple[Procedure, ...]

    def at_level(self, level: str) -> tuple[Procedure, ...]:
        return tuple(p for p in self.procedures if p.level == level)

    def by_local_code(self) -> dict[str, Procedure]:
        return {p.local_code: p for p in self.procedures}

    def by_national_code(self) -> dict[str, Procedure]:
        return {p.national_code: p for p in self.procedures}

    def mapping(self) -> dict[str, str]:
        """Local procedure code → national MaTTHC, the table a hub keeps."""
        return {p.local_code: p.national_code for p in self.procedures}


def build(seed: int, prefix: str = "NT") -> Catalogue:
    """The whole catalogue for ``seed``; ``prefix`` is the vendor's code prefix (Núi Thành: NT)."""
    rng = random.Random(f"catalogue:{seed}")
    national_used: set[str] = set()
    procedures: list[Procedure] = []
    for level, count, fields in (
        ("district", DISTRICT_PROCEDURES, _DISTRICT_FIELDS),
        ("commune", COMMUNE_PROCEDURES, _COMMUNE_FIELDS),
    ):
        level_tag = "H" if level == "district" else "X"
        names = _names(fields, count, rng)
        counters: dict[str, int] = {}
        for field_code, field_name, name in names:
            counters[field_code] = counters.get(field_code, 0) + 1
            local = f"{prefix}-{level_tag}{field_code}-{counters[field_code]:03d}"
            national = _national_code(rng, national_used)
            roll = rng.random()
            service_level = 4 if roll < 0.46 else 3 if roll < 0.84 else 2
            components = tuple(
                (f"{local}-TP{i + 1}", comp) for i, comp in enumerate(rng.sample(_COMPONENTS, rng.randint(1, 4)))
            )
            fees: tuple[FeeRule, ...] = ()
            if rng.random() < 0.35:
                kind = rng.choice(("LEPHI", "PHI"))
                label = "Lệ phí" if kind == "LEPHI" else "Phí"
                fees = (FeeRule(f"{local}-LP1", f"{label} {name[:60].lower()}", rng.choice(_FEE_AMOUNTS), kind),)
            procedures.append(
                Procedure(
                    local_code=local,
                    national_code=national,
                    name=name,
                    level=level,
                    field_code=f"{level_tag}{field_code}",
                    field_name=field_name,
                    service_level=service_level,
                    processing_days=rng.choice(
                        (1, 2, 3, 5, 5, 7, 10, 12, 15, 20, 30) if level == "district" else (1, 1, 2, 3, 3, 5, 7, 10)
                    ),
                    components=components,
                    fees=fees,
                    inter_level=level == "district" and rng.random() < 0.3,
                )
            )
    return Catalogue(tuple(procedures))


def _names(
    fields: tuple[tuple[str, str, tuple[str, ...]], ...], count: int, rng: random.Random
) -> list[tuple[str, str, str]]:
    """``count`` distinct (field code, field name, procedure name), spread over the fields."""
    pool = [(code, fname, f"{verb} {obj}") for code, fname, objs in fields for obj in objs for verb in _VERBS]
    rng.shuffle(pool)
    chosen = pool[:count]
    chosen.sort(key=lambda item: (item[0], item[2]))
    return chosen


def _national_code(rng: random.Random, used: set[str]) -> str:
    # national codes look like 1.001193 or 2.000889 (thủ tục 1.x central, 2.x local)
    while True:
        code = f"{rng.choice((1, 1, 2))}.{rng.randint(0, 12999):06d}"
        if code not in used:
            used.add(code)
            return code
