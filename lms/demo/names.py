"""Vietnamese names for demo people, Kinh and ethnic-minority, written in NFC."""

from __future__ import annotations

import random
import unicodedata

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi",
          "Đỗ", "Hồ", "Ngô", "Dương", "Lý", "Ma", "Nông", "Hà", "Lò", "Giàng", "Sùng", "Vàng",
          "Triệu", "Đinh", "Quàng", "Lục", "Hứa"]
MIDDLE_M = ["Văn", "Đức", "Minh", "Quốc", "Hữu", "Thành", "Công", "A", "Seo"]
MIDDLE_F = ["Thị", "Ngọc", "Thu", "Thanh", "Minh", "Kim", "Bảo", "Mỹ"]
GIVEN_M = ["An", "Bình", "Cường", "Dũng", "Đạt", "Hải", "Hùng", "Khánh", "Long", "Nam", "Phúc",
           "Quân", "Sơn", "Thắng", "Tuấn", "Việt", "Páo", "Chứ", "Súa", "Pủa", "Dìn", "Kháng"]
GIVEN_F = ["Anh", "Chi", "Dung", "Giang", "Hà", "Hằng", "Hương", "Lan", "Linh", "Mai", "Ngân",
           "Nhung", "Phương", "Quỳnh", "Thảo", "Trang", "Yến", "Sình", "Mỷ", "Dợ", "Nguyệt", "Ỷ"]


def random_name(rng: random.Random, female: bool) -> str:
    middle, given = (MIDDLE_F, GIVEN_F) if female else (MIDDLE_M, GIVEN_M)
    return unicodedata.normalize(
        "NFC", f"{rng.choice(FAMILY)} {rng.choice(middle)} {rng.choice(given)}")
