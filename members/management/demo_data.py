"""The demo network that `manage.py seed_demo` creates: 磨き屋シンジケート as in May 2010
(10 lead companies, 15 joint-order members, 14 supporting members), its referral directory
and the partner network プロシアムネット.

Every company, person and number here is invented. Corporate numbers are valid (their check
digit is computed) but built on a made-up serial range; addresses are plausible, not real.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from members.models import FinishKind, MembershipClass, ProcessCategory

DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 - a published demo password, never production

# code, name_ja, name_en, category
PROCESSES = [
    ("buff", "バフ研磨", "Buff polishing", ProcessCategory.POLISHING),
    ("electrolytic", "電解研磨", "Electrolytic polishing", ProcessCategory.POLISHING),
    ("barrel", "バレル研磨", "Barrel polishing", ProcessCategory.POLISHING),
    ("mirror", "鏡面仕上げ", "Mirror finishing", ProcessCategory.POLISHING),
    ("hairline", "ヘアライン仕上げ", "Hairline finishing", ProcessCategory.POLISHING),
    ("blasting", "ブラスト", "Blasting", ProcessCategory.SURFACE),
    ("chemical", "化学研磨", "Chemical polishing", ProcessCategory.POLISHING),
    ("lapping", "ラップ研磨", "Lapping", ProcessCategory.POLISHING),
    ("die_making", "金型製作", "Die-making", ProcessCategory.MACHINING),
    ("pressing", "プレス加工", "Pressing", ProcessCategory.FORMING),
    ("display", "販促什器", "Sales display", ProcessCategory.OTHER),
]

# code, name_ja, name_en
MATERIALS = [
    ("stainless", "ステンレス", "Stainless steel"),
    ("magnesium", "マグネシウム", "Magnesium"),
    ("titanium", "チタン", "Titanium"),
    ("aluminium", "アルミニウム", "Aluminium"),
    ("brass", "真鍮", "Brass"),
    ("copper", "銅", "Copper"),
    ("steel", "鉄", "Steel"),
    ("resin", "樹脂", "Resin"),
]

MIGAKIYA = {
    "slug": "migakiya",
    "name": "磨き屋シンジケート",
    "name_en": "Migakiya Syndicate",
    "secretariat_name": "燕商工会議所",
    "prefecture": "15",
    "description": (
        "燕市の研磨業者が余力を持ち寄り、発注者が一つの窓口から「ほとんどの研磨」を依頼できる"
        "共同受注ネットワーク。2003年1月に30社で発足。受注は受注幹事企業が請負元として引き受け、"
        "共同受注部会員とプロジェクトチームを組む。\n"
        "A joint-order network of polishing shops in Tsubame, Niigata, founded in January 2003."
    ),
    "contact_email": "migakiya@example.jp",
    "award_by_bid": True,
    "award_by_coordination": True,
    "lead_recommendations_required": 2,
    "application_window_days": 7,
}
MIGAKIYA_FEES = {
    MembershipClass.LEAD: 35_000,
    MembershipClass.JOINT_ORDER: 15_000,
    MembershipClass.SUPPORTING: 30_000,
    MembershipClass.SKILL_DIVISION: 5_000,
}

PROSIUM = {
    "slug": "prosium",
    "name": "プロシアムネット",
    "name_en": "Prosium Net",
    "secretariat_name": "プロシアムネット事務局",
    "prefecture": "15",
    "description": (
        "県央地域の金型・プレス加工・製品企画の連携ネットワーク。磨き屋シンジケートと組み、"
        "金型からプレス、研磨までを一貫して提案する。\n"
        "Dies, pressing and product planning; partners with the Migakiya Syndicate."
    ),
    "contact_email": "prosium@example.jp",
    "award_by_bid": False,
    "award_by_coordination": True,
    "lead_recommendations_required": 2,
    "application_window_days": 10,
}
PROSIUM_FEES = {
    MembershipClass.LEAD: 30_000,
    MembershipClass.JOINT_ORDER: 12_000,
    MembershipClass.SUPPORTING: 20_000,
}

# Areas: city, prefecture, (town, postal code) list, base latitude / longitude, phone
# prefix, registry-office part of the (invented) corporate number.
AREAS = {
    "tsubame": (
        "燕市",
        "15",
        [
            ("井土巻", "959-1232"),
            ("小関", "959-1263"),
            ("大曲", "959-1228"),
            ("物流センター", "959-1277"),
            ("東太田", "959-1289"),
            ("杣木", "959-1276"),
            ("小池", "959-1261"),
            ("秋葉町", "959-1244"),
        ],
        (37.673, 138.882),
        "0256-6",
        "1101",
    ),
    "sanjo": (
        "三条市",
        "15",
        [
            ("須頃", "955-0092"),
            ("塚野目", "955-0055"),
            ("金子新田", "955-0004"),
            ("柳川新田", "955-0018"),
            ("東新保", "955-0803"),
        ],
        (37.637, 138.962),
        "0256-3",
        "1101",
    ),
    "kamo": (
        "加茂市",
        "15",
        [("大郷町", "959-1313"), ("下条", "959-1335"), ("神明町", "959-1372")],
        (37.666, 139.040),
        "0256-5",
        "1101",
    ),
    "niigata": (
        "新潟市東区",
        "15",
        [("卸新町", "950-0841"), ("竹尾", "950-0864"), ("河渡", "950-0031")],
        (37.903, 139.060),
        "025-27",
        "1100",
    ),
    "niigata_west": (
        "新潟市西区",
        "15",
        [("山田", "950-2002"), ("善久", "950-2005")],
        (37.868, 138.960),
        "025-26",
        "1100",
    ),
    "nagaoka": (
        "長岡市",
        "15",
        [("新産", "940-2127"), ("城岡", "940-2108"), ("北陽", "940-2045")],
        (37.446, 138.851),
        "0258-2",
        "1102",
    ),
    "tokyo": (
        "大田区",
        "13",
        [("東糀谷", "144-0033"), ("下丸子", "146-0092")],
        (35.561, 139.723),
        "03-37",
        "0108",
    ),
    "osaka": (
        "東大阪市",
        "27",
        [("高井田", "577-0066"), ("長田", "577-0013")],
        (34.679, 135.601),
        "06-67",
        "1222",
    ),
    "aichi": (
        "刈谷市",
        "23",
        [("一ツ木町", "448-0003"), ("小垣江町", "448-0813")],
        (34.989, 137.002),
        "0566-2",
        "1805",
    ),
    "fukui": (
        "鯖江市",
        "18",
        [("丸山町", "916-0042"), ("川島町", "916-0016")],
        (35.957, 136.184),
        "0778-5",
        "2101",
    ),
    "saitama": (
        "川口市",
        "11",
        [("青木", "332-0031"), ("領家", "332-0004")],
        (35.808, 139.724),
        "048-25",
        "0304",
    ),
    "gifu": (
        "関市",
        "21",
        [("小屋名", "501-3265"), ("肥田瀬", "501-3217")],
        (35.495, 136.917),
        "0575-2",
        "2004",
    ),
}

SURNAMES = [
    "佐藤", "高橋", "渡辺", "小林", "星野", "五十嵐", "長谷川", "丸山", "山田", "田中",
    "阿部", "小池", "金子", "本間", "石田", "捧", "斎藤", "池田", "野水", "大平",
    "山岸", "白井", "若月", "樋口", "坂井", "内山", "関根", "霜鳥", "田辺", "松永",
]  # fmt: skip
GIVEN_NAMES = [
    "健一", "誠", "浩二", "和也", "博之", "直樹", "隆", "美穂", "裕子", "聡",
    "大輔", "恵", "修", "亮", "智子", "勝", "翔太", "由美", "正人", "剛",
    "明美", "拓也", "進", "久美子", "淳",
]  # fmt: skip


@dataclass
class CompanySpec:
    """One demo company. `key` is its first user's username and its natural key in this file;
    the database's natural key is the corporate number computed from `serial`."""

    key: str
    legal_name: str
    kana: str
    area: str
    employees: int
    capital_yen: int
    serial: int
    name_en: str = ""
    invoice_registered: bool = True
    description: str = ""
    contact_title: str = "代表取締役"
    joined_on: datetime.date = datetime.date(2003, 1, 20)
    capabilities: list[str] = field(default_factory=list)  # see parse_capability
    workers: tuple = ()  # grades: "special", "1", "2"
    equipment: list = field(default_factory=list)  # (name, quantity, notes)
    skill_division: bool = False


def parse_capability(text: str) -> dict:
    """`"buff stainless 600x400x300 25kg #800 1-50000 10d 6000/mo; notes"` as the fields of
    a capability (process and material as codes). Finish: "#800" (grit), "mirror" or "Ra0.05"."""
    spec, _sep, notes = text.partition(";")
    process, material, size, weight, finish, lots, days, spare = spec.split()
    length, width, height = (int(n) for n in size.split("x"))
    lot_min, lot_max = (int(n) for n in lots.split("-"))
    data = {
        "process": process,
        "material": material,
        "max_length_mm": length,
        "max_width_mm": width,
        "max_height_mm": height,
        "max_weight_kg": Decimal(weight.removesuffix("kg")),
        "lot_min": lot_min,
        "lot_max": lot_max,
        "lead_time_days": int(days.removesuffix("d")),
        "spare_capacity_per_month": int(spare.removesuffix("/mo")),
        "notes": notes.strip(),
    }
    if finish == "mirror":
        data["finish_kind"] = FinishKind.MIRROR
    elif finish.startswith("#"):
        data.update(finish_kind=FinishKind.GRIT, finish_grit=int(finish[1:]))
    elif finish.startswith("Ra"):
        data.update(finish_kind=FinishKind.RA, finish_ra_input=Decimal(finish[2:]))
    else:
        raise ValueError(f"Unknown finish {finish!r} in {text!r}")
    return data


def _d(y, m, d):
    return datetime.date(y, m, d)


# ---------------------------------------------------------------------------------------
# The companies. Positional: key (first user's username), legal name, kana reading, area,
# employees, capital (yen), serial of the invented corporate number.
# Capabilities: "process material LxWxH(mm) weight(kg) finish lot-range days spare/month;
# notes" with finish "#800" (grit), "mirror" or "Ra0.05" (µm); see parse_capability.

# fmt: off

# 受注幹事企業 (lead companies): admitted as joint-order members, appointed later.
LEADS = [
    CompanySpec(
        "lead01", "株式会社山田研磨工業", "ヤマダケンマコウギョウ", "tsubame", 48, 30_000_000,
        901_001, name_en="Yamada Polishing Industry Co., Ltd.",
        description="洋食器からスマートフォン部品まで、ステンレスの鏡面バフ研磨を一貫受注。",
        capabilities=[
            "buff stainless 600x400x300 25kg #800 1-50000 10d 6000/mo;"
            " 洋食器・携帯端末筐体。ロボット研磨で量産対応",
            "mirror stainless 600x400x300 25kg mirror 1-20000 14d 3000/mo; #8相当の鏡面",
            "buff titanium 400x300x200 10kg #600 1-5000 14d 800/mo",
        ],
        workers=("special", "1", "1", "1", "2"),
        equipment=[("自動バフ研磨機", 6, "ロータリー式"), ("ロボット研磨セル", 2, "6軸ロボット"),
                   ("表面粗さ計", 1, "")],
        skill_division=True,
    ),
    CompanySpec(
        "lead02", "株式会社燕ミラーテック", "ツバメミラーテック", "tsubame", 32, 20_000_000,
        901_002, name_en="Tsubame Mirrortech Inc.",
        description="マグネシウム・アルミ筐体の鏡面仕上げ。IT機器・オーディオ部品の実績多数。",
        capabilities=[
            "mirror stainless 500x400x200 15kg mirror 1-10000 12d 2500/mo",
            "mirror aluminium 500x400x200 10kg mirror 1-10000 12d 2000/mo; アルマイト前処理対応",
            "buff magnesium 400x300x100 5kg #600 10-30000 10d 4000/mo; ノートPC・携帯電話筐体",
        ],
        workers=("1", "1", "2"),
        equipment=[("自動バフ研磨機", 4, ""), ("防爆型集塵機", 2, "マグネシウム粉じん対策")],
    ),
    CompanySpec(
        "lead03", "株式会社大平電解", "オオヒラデンカイ", "sanjo", 26, 20_000_000, 901_003,
        name_en="Ohira Electropolishing Co., Ltd.",
        description="発電プラント配管部品など長尺・大型品の電解研磨。最大2000 mm。",
        capabilities=[
            "electrolytic stainless 2000x600x600 300kg Ra0.1 1-500 21d 120/mo;"
            " 発電プラント配管・継手。長尺槽",
            "electrolytic titanium 1000x400x400 80kg Ra0.2 1-300 21d 80/mo",
            "buff stainless 2000x600x600 300kg #400 1-200 20d 60/mo; 電解前の下地研磨",
        ],
        workers=("1", "2", "2"),
        equipment=[("電解研磨槽（2.2 m）", 1, "長尺品用"), ("電解研磨槽", 3, ""),
                   ("天井クレーン 2.8 t", 1, "")],
    ),
    CompanySpec(
        "lead04", "有限会社五十嵐バフ工業所", "イガラシバフコウギョウショ", "tsubame", 12,
        3_000_000, 901_004,
        description="ステンレス・真鍮のバフ研磨とヘアライン。小ロット・短納期が得意。",
        capabilities=[
            "buff stainless 500x300x200 10kg #600 1-5000 7d 1500/mo",
            "buff brass 400x300x200 10kg #800 1-3000 7d 800/mo; 楽器部品",
            "hairline stainless 1200x600x100 20kg #400 1-2000 7d 600/mo",
        ],
        workers=("1", "2"),
        equipment=[("バフ研磨機", 8, ""), ("ヘアライン研磨機", 1, "幅600 mm")],
    ),
    CompanySpec(
        "lead05", "株式会社長谷川精密研磨", "ハセガワセイミツケンマ", "tsubame", 35, 30_000_000,
        901_005, name_en="Hasegawa Precision Polishing Co., Ltd.",
        description="半導体製造装置部品の電解複合研磨・鏡面仕上げ。クリーン洗浄・梱包まで。",
        capabilities=[
            "electrolytic stainless 1200x800x600 150kg Ra0.05 1-200 25d 150/mo;"
            " 半導体製造装置チャンバー部品",
            "mirror stainless 1200x800x600 150kg mirror 1-200 25d 100/mo; クリーンルーム梱包対応",
            "buff aluminium 800x600x400 40kg #800 1-1000 15d 400/mo",
        ],
        workers=("special", "1", "1"),
        equipment=[("電解複合研磨装置", 2, ""), ("超音波洗浄ライン", 1, ""),
                   ("三次元測定機", 1, "")],
        skill_division=True,
    ),
    CompanySpec(
        "lead06", "株式会社丸山メタルフィニッシュ", "マルヤマメタルフィニッシュ", "sanjo", 40,
        20_000_000, 901_006, name_en="Maruyama Metal Finish Co., Ltd.",
        description="小物部品のバレル研磨。10万個単位の量産から試作まで。",
        capabilities=[
            "barrel stainless 80x60x40 0.5kg #400 100-200000 7d 80000/mo; 遠心バレル・回転バレル",
            "barrel brass 80x60x40 0.5kg #600 100-100000 7d 40000/mo",
            "barrel steel 100x80x50 1kg #240 100-200000 7d 60000/mo; バリ取り・R付け",
        ],
        workers=("1", "2"),
        equipment=[("遠心バレル研磨機", 6, ""), ("回転バレル研磨機", 10, ""), ("乾燥機", 2, "")],
    ),
    CompanySpec(
        "lead07", "株式会社本間工業", "ホンマコウギョウ", "tsubame", 22, 10_000_000, 901_007,
        name_en="Homma Kogyo Co., Ltd.",
        description="シンク・天板など大物ステンレスのバフ研磨とヘアライン仕上げ。",
        capabilities=[
            "buff stainless 1800x900x400 60kg #600 1-1000 14d 300/mo; 業務用シンク・カウンター天板",
            "hairline stainless 2400x1200x100 80kg #320 1-500 14d 200/mo; 建材パネル",
        ],
        workers=("1", "1", "2"),
        equipment=[("大型バフ研磨機", 3, "2 m対応"), ("ワイドベルトサンダー", 1, "幅1300 mm")],
    ),
    CompanySpec(
        "lead08", "株式会社星野研磨", "ホシノケンマ", "kamo", 15, 10_000_000, 901_008,
        description="チタン製ゴルフヘッド・眼鏡部品の研磨と鏡面仕上げ。",
        capabilities=[
            "buff titanium 300x200x150 3kg #800 1-10000 10d 2000/mo",
            "mirror titanium 300x200x150 3kg mirror 1-5000 14d 1000/mo",
            "buff stainless 400x300x200 8kg #600 1-10000 10d 1500/mo",
        ],
        workers=("1", "2"),
        equipment=[("バフ研磨機", 6, ""), ("集塵機", 2, "")],
        skill_division=True,
    ),
    CompanySpec(
        "lead09", "株式会社県央ポリッシュ", "ケンオウポリッシュ", "nagaoka", 60, 50_000_000,
        901_009, name_en="Ken-O Polish Corporation",
        description="工作機械部品・産業機械カバーのロボット研磨。鉄・アルミ・ステンレス対応。",
        capabilities=[
            "buff steel 2000x1000x800 500kg #400 1-1000 20d 300/mo; 工作機械カバー",
            "buff stainless 2000x1000x800 500kg #600 1-1000 20d 300/mo",
            "buff aluminium 1500x800x600 200kg #600 1-2000 15d 500/mo",
        ],
        workers=("1", "1", "2", "2"),
        equipment=[("ロボット研磨セル", 4, ""), ("天井クレーン 5 t", 1, ""),
                   ("自動バフ研磨機", 5, "")],
    ),
    CompanySpec(
        "lead10", "有限会社捧製作所", "ささげせいさくしょ", "tsubame", 9, 3_000_000, 901_010,
        invoice_registered=False, description="銅・真鍮の鍋や酒器のバフ研磨。職人の手仕上げ。",
        capabilities=[
            "buff copper 500x500x300 8kg mirror 1-3000 14d 500/mo; 銅鍋・タンブラー",
            "buff brass 400x400x300 8kg #800 1-3000 14d 400/mo",
            "buff stainless 400x400x300 8kg #600 1-5000 10d 700/mo",
        ],
        workers=("special", "1"),
        equipment=[("バフ研磨機", 5, "")],
        skill_division=True,
    ),
]

# Appointment of each lead: decided on, the member companies recommending it, votes
# (for, against, abstained). Recommenders are members by then.
LEAD_APPOINTMENTS = {
    "lead01": (_d(2003, 4, 18), ("member01", "member02", "member03"), (6, 0, 0)),
    "lead02": (_d(2003, 4, 18), ("member04", "member05"), (6, 0, 0)),
    "lead03": (_d(2003, 4, 18), ("member06", "member07"), (5, 0, 1)),
    "lead04": (_d(2004, 5, 21), ("lead01", "member08"), (6, 0, 0)),
    "lead05": (_d(2005, 6, 17), ("lead03", "member09", "member11"), (6, 0, 0)),
    "lead06": (_d(2006, 5, 19), ("lead02", "member10"), (5, 1, 0)),
    "lead07": (_d(2007, 5, 18), ("lead04", "member12"), (6, 0, 0)),
    "lead08": (_d(2008, 5, 16), ("lead05", "member13"), (5, 0, 1)),
    "lead09": (_d(2009, 5, 15), ("lead06", "member14", "support01"), (6, 0, 0)),
    "lead10": (_d(2010, 4, 23), ("lead07", "member15"), (6, 0, 0)),
}

# 共同受注部会員 (joint-order members)
MEMBERS = [
    CompanySpec(
        "member01", "有限会社燕バフ製作所", "ツバメバフセイサクショ", "tsubame", 6, 3_000_000,
        902_001,
        capabilities=[
            "buff stainless 400x300x200 5kg #600 1-5000 10d 1200/mo; 洋食器",
        ],
        workers=("1",), equipment=[("バフ研磨機", 4, "")], skill_division=True,
    ),
    CompanySpec(
        "member02", "有限会社小池研磨", "コイケケンマ", "tsubame", 4, 3_000_000, 902_002,
        invoice_registered=False,
        capabilities=[
            "buff stainless 300x100x50 1kg #800 100-20000 7d 5000/mo; スプーン・フォーク",
        ],
        workers=("2",), equipment=[("バフ研磨機", 3, "")],
    ),
    CompanySpec(
        "member03", "株式会社渡辺鏡面工業", "ワタナベキョウメンコウギョウ", "tsubame", 11,
        10_000_000, 902_003, name_en="Watanabe Mirror Finish Co., Ltd.",
        capabilities=[
            "mirror stainless 600x400x300 15kg mirror 1-3000 14d 600/mo",
            "buff stainless 600x400x300 15kg #800 1-5000 10d 900/mo",
        ],
        workers=("1", "1"), equipment=[("バフ研磨機", 6, "")], skill_division=True,
    ),
    CompanySpec(
        "member04", "有限会社金子研磨所", "カネコケンマショ", "sanjo", 5, 3_000_000, 902_004,
        capabilities=[
            "buff steel 500x200x100 5kg #400 1-3000 10d 1000/mo; 作業工具",
            "buff stainless 500x200x100 5kg #600 1-3000 10d 800/mo; 刃物",
        ],
        workers=("2",), equipment=[("バフ研磨機", 3, "")],
    ),
    CompanySpec(
        "member05", "株式会社石田ポリッシング", "イシダポリッシング", "tsubame", 18,
        10_000_000, 902_005, name_en="Ishida Polishing Co., Ltd.",
        capabilities=[
            "buff magnesium 350x250x50 2kg #600 50-20000 10d 3000/mo; ノートPC筐体",
            "buff aluminium 400x300x100 5kg #800 50-20000 10d 3000/mo",
        ],
        workers=("1", "2"),
        equipment=[("自動バフ研磨機", 3, ""), ("防爆型集塵機", 1, "")],
        skill_division=True,
    ),
    CompanySpec(
        "member06", "有限会社阿部金属研磨", "アベキンゾクケンマ", "tsubame", 3, 3_000_000,
        902_006, invoice_registered=False,
        capabilities=[
            "hairline stainless 600x300x100 5kg #400 1-1000 7d 400/mo",
        ],
        workers=("1",),
    ),
    CompanySpec(
        "member07", "株式会社田中バレル", "タナカバレル", "sanjo", 14, 10_000_000, 902_007,
        capabilities=[
            "barrel stainless 60x40x30 0.3kg #600 500-100000 7d 30000/mo",
            "barrel aluminium 60x40x30 0.3kg #400 500-100000 7d 20000/mo",
        ],
        equipment=[("遠心バレル研磨機", 4, "")],
    ),
    CompanySpec(
        "member08", "有限会社斎藤研磨工業", "サイトウケンマコウギョウ", "kamo", 7, 3_000_000,
        902_008,
        capabilities=[
            "buff stainless 500x400x300 10kg #600 1-3000 10d 700/mo",
        ],
        workers=("2",),
    ),
    CompanySpec(
        "member09", "株式会社池田電解工業", "イケダデンカイコウギョウ", "tsubame", 20,
        20_000_000, 902_009, name_en="Ikeda Electropolishing Co., Ltd.",
        capabilities=[
            "electrolytic stainless 800x500x500 50kg Ra0.1 1-5000 14d 1500/mo;"
            " 食品機械・医療器具部品",
        ],
        workers=("1", "2"),
        equipment=[("電解研磨槽", 4, ""), ("純水洗浄装置", 1, "")],
    ),
    CompanySpec(
        "member10", "有限会社野水研磨", "のみずけんま", "tsubame", 5, 3_000_000, 902_010,
        capabilities=[
            "buff titanium 250x150x100 2kg #800 1-3000 14d 500/mo; 眼鏡・時計部品",
        ],
        workers=("1",),
    ),
    CompanySpec(
        "member11", "株式会社吉田ステンレス研磨", "ヨシダステンレスケンマ", "tsubame", 24,
        20_000_000, 902_011, name_en="Yoshida Stainless Polishing Co., Ltd.",
        capabilities=[
            "buff stainless 1500x800x500 80kg #600 1-500 20d 150/mo; 大型タンク部材",
            "hairline stainless 1500x800x100 40kg #400 1-500 14d 200/mo",
        ],
        workers=("1", "2", "2"),
        equipment=[("大型バフ研磨機", 2, ""), ("天井クレーン 2 t", 1, "")],
    ),
    CompanySpec(
        "member12", "有限会社佐藤ヘアライン", "サトウヘアライン", "sanjo", 8, 3_000_000,
        902_012,
        capabilities=[
            "hairline stainless 1200x600x100 20kg #320 1-2000 10d 600/mo",
            "hairline aluminium 1200x600x100 10kg #320 1-2000 10d 600/mo",
        ],
        equipment=[("ヘアライン研磨機", 2, "")],
    ),
    CompanySpec(
        "member13", "株式会社新潟メタルポリッシュ", "ニイガタメタルポリッシュ", "niigata_west",
        16, 10_000_000, 902_013, name_en="Niigata Metal Polish Co., Ltd.",
        joined_on=_d(2006, 4, 1),
        capabilities=[
            "buff aluminium 800x500x300 20kg #600 1-3000 14d 800/mo",
            "buff stainless 800x500x300 20kg #600 1-3000 14d 800/mo",
        ],
        workers=("2",),
    ),
    CompanySpec(
        "member14", "有限会社高橋研磨製作所", "タカハシケンマセイサクショ", "nagaoka", 6,
        3_000_000, 902_014, invoice_registered=False, joined_on=_d(2007, 4, 1),
        capabilities=[
            "barrel steel 120x80x60 2kg #240 100-50000 10d 10000/mo",
        ],
    ),
    CompanySpec(
        "member15", "株式会社燕チタン加工", "ツバメチタンカコウ", "tsubame", 13, 10_000_000,
        902_015, name_en="Tsubame Titanium Works Co., Ltd.", joined_on=_d(2008, 4, 1),
        capabilities=[
            "buff titanium 500x300x200 8kg #600 1-5000 14d 1000/mo",
            "mirror titanium 500x300x200 8kg mirror 1-2000 21d 400/mo; タンブラー・食器",
        ],
        workers=("1", "2"),
        equipment=[("バフ研磨機", 4, ""), ("チタン粉じん用集塵機", 1, "")],
    ),
]

# 賛助会員 (supporting members): suppliers, makers, services. Few capabilities.
SUPPORTERS = [
    CompanySpec(
        "support01", "株式会社燕研磨材商会", "ツバメケンマザイショウカイ", "tsubame", 18,
        20_000_000, 903_001, contact_title="営業部長",
        description="バフ・研磨剤・研磨布紙の販売。",
    ),
    CompanySpec(
        "support02", "株式会社越後ステンレス商事", "エチゴステンレスショウジ", "niigata", 35,
        50_000_000, 903_002, name_en="Echigo Stainless Trading Co., Ltd.",
        contact_title="営業部長", description="ステンレス鋼板・鋼管の販売と切断加工。",
    ),
    CompanySpec(
        "support03", "株式会社三条ツールセンター", "サンジョウツールセンター", "sanjo", 12,
        10_000_000, 903_003, description="工具・機械部品の卸売。",
    ),
    CompanySpec(
        "support04", "有限会社県央梱包", "ケンオウコンポウ", "kamo", 9, 3_000_000, 903_004,
        invoice_registered=False, description="精密部品の梱包・発送代行。",
    ),
    CompanySpec(
        "support05", "株式会社つばめ物流", "つばめぶつりゅう", "tsubame", 45, 30_000_000,
        903_005, name_en="Tsubame Logistics Co., Ltd.", contact_title="営業課長",
        description="県央地域の部品輸送。",
    ),
    CompanySpec(
        "support06", "株式会社北越デザイン研究所", "ホクエツデザインケンキュウショ", "nagaoka",
        7, 10_000_000, 903_006, description="製品デザインとブランド開発。",
    ),
    CompanySpec(
        "support07", "株式会社燕ハウスウェア", "ツバメハウスウェア", "tsubame", 70,
        50_000_000, 903_007, name_en="Tsubame Houseware Co., Ltd.", contact_title="購買部長",
        description="キッチン用品の企画・販売。",
    ),
    CompanySpec(
        "support08", "株式会社越後メッキ工業", "エチゴメッキコウギョウ", "sanjo", 25,
        20_000_000, 903_008, description="装飾めっき・工業めっき。",
    ),
    CompanySpec(
        "support09", "有限会社丸一集塵設備", "マルイチシュウジンセツビ", "tsubame", 5,
        3_000_000, 903_009, invoice_registered=False, joined_on=_d(2004, 4, 1),
        description="集塵機の設置と保守。",
    ),
    CompanySpec(
        "support10", "株式会社にいがた検査サービス", "にいがたけんささーびす", "niigata", 20,
        10_000_000, 903_010, contact_title="品質保証課長", joined_on=_d(2005, 4, 1),
        description="寸法・表面粗さの受託測定。",
    ),
    CompanySpec(
        "support11", "株式会社燕洋食器", "ツバメヨウショッキ", "tsubame", 80, 50_000_000,
        903_011, name_en="Tsubame Western Tableware Co., Ltd.", contact_title="製造部長",
        joined_on=_d(2006, 4, 1), description="業務用洋食器の製造。",
    ),
    CompanySpec(
        "support12", "株式会社三条刃物製作所", "サンジョウハモノセイサクショ", "sanjo", 30,
        20_000_000, 903_012, joined_on=_d(2007, 4, 1),
        description="包丁・鋏の製造。社内研磨の余力を提供。",
        capabilities=[
            "buff stainless 350x60x30 0.5kg #600 100-10000 14d 2000/mo; 刃物",
        ],
    ),
    CompanySpec(
        "support13", "有限会社吉田研磨機械", "ヨシダケンマキカイ", "tsubame", 8, 3_000_000,
        903_013, joined_on=_d(2008, 4, 1),
        description="バレル研磨機の製造・販売。試し磨きを受託。",
        capabilities=[
            "barrel stainless 50x30x20 0.2kg #400 10-5000 10d 3000/mo; 試作・テスト研磨",
        ],
    ),
    CompanySpec(
        "support14", "株式会社長岡精機", "ナガオカセイキ", "nagaoka", 55, 40_000_000, 903_014,
        name_en="Nagaoka Seiki Co., Ltd.", joined_on=_d(2009, 4, 1),
        description="産業機械の設計・製造。",
    ),
]

# 非会員 (non-members) in the referral directory, with what the members lack:
# (company, consents to referrals, notes).
NON_MEMBERS = [
    (CompanySpec(
        "nonmember01", "株式会社東都化学研磨", "トウトカガクケンマ", "tokyo", 25, 20_000_000,
        904_001, name_en="Toto Chemical Polishing Co., Ltd.",
        capabilities=[
            "chemical copper 600x400x300 20kg Ra0.2 1-20000 10d 5000/mo; 電子部品・端子",
            "chemical brass 600x400x300 20kg Ra0.2 1-20000 10d 3000/mo",
        ],
    ), True, "銅・真鍮の化学研磨。会員に対応できる企業なし。"),
    (CompanySpec(
        "nonmember02", "株式会社大阪ケミカルフィニッシュ", "オオサカケミカルフィニッシュ",
        "osaka", 30, 30_000_000, 904_002,
        capabilities=[
            "chemical aluminium 1000x600x400 30kg Ra0.4 1-10000 12d 4000/mo",
            "chemical stainless 1000x600x400 30kg Ra0.3 1-10000 12d 4000/mo",
        ],
    ), True, "アルミ・ステンレスの化学研磨。"),
    (CompanySpec(
        "nonmember03", "株式会社中部ラップテック", "チュウブラップテック", "aichi", 40,
        50_000_000, 904_003, name_en="Chubu Laptech Corporation",
        capabilities=[
            "lapping resin 300x300x50 2kg Ra0.01 1-5000 14d 2000/mo; 光学用樹脂部品",
            "lapping steel 500x500x100 20kg Ra0.02 1-2000 14d 1000/mo; 金型部品・ゲージ",
        ],
    ), True, "樹脂・鋼のラップ研磨（Ra 0.01 µm）。"),
    (CompanySpec(
        "nonmember04", "株式会社北陸ブラスト工業", "ホクリクブラストコウギョウ", "niigata", 22,
        10_000_000, 904_004,
        capabilities=[
            "blasting steel 6000x2500x2500 5000kg Ra3.2 1-500 10d 200/mo; 大型鋼構造物の素地調整",
            "blasting aluminium 2000x1000x1000 300kg Ra1.6 1-2000 7d 800/mo",
        ],
    ), True, "ブラスト処理。大型品可。"),
    (CompanySpec(
        "nonmember05", "株式会社越後大型研磨", "エチゴオオガタケンマ", "nagaoka", 28,
        20_000_000, 904_005,
        capabilities=[
            "buff stainless 6000x3000x3000 3000kg #400 1-20 30d 10/mo; 貯槽・圧力容器の内面研磨",
        ],
    ), True, "6 m級の超大型品。"),
    (CompanySpec(
        "nonmember06", "株式会社鯖江チタン仕上", "サバエチタンシアゲ", "fukui", 18, 10_000_000,
        904_006, name_en="Sabae Titanium Finishing Co., Ltd.",
        capabilities=[
            "electrolytic titanium 200x100x50 0.5kg Ra0.05 100-50000 10d 20000/mo; 眼鏡フレーム",
            "barrel titanium 150x60x30 0.2kg #800 500-100000 10d 40000/mo",
        ],
    ), True, "チタン小物の電解・バレル研磨。量が多い案件向け。"),
    (CompanySpec(
        "nonmember07", "株式会社川口鏡面工業", "カワグチキョウメンコウギョウ", "saitama", 15,
        10_000_000, 904_007,
        capabilities=[
            "mirror steel 1500x800x600 200kg mirror 1-100 21d 50/mo; 金型・鋳物の鏡面",
        ],
    ), True, "鉄（鋳物・金型）の鏡面仕上げ。"),
    (CompanySpec(
        "nonmember08", "有限会社関刃物研磨", "セキハモノケンマ", "gifu", 6, 3_000_000, 904_008,
        invoice_registered=False,
        capabilities=[
            "barrel brass 100x50x30 0.3kg #800 1000-300000 10d 80000/mo; 大量の小物",
        ],
    ), True, "真鍮小物の大ロットバレル。"),
    (CompanySpec(
        "nonmember09", "株式会社下丸子パネル研磨", "シモマルコパネルケンマ", "tokyo", 12,
        10_000_000, 904_009,
        capabilities=[
            "hairline aluminium 4000x1500x50 60kg #240 1-1000 14d 300/mo; 建材パネル",
        ],
    ), True, "4 m級パネルのヘアライン。首都圏の現場向け。"),
    (CompanySpec(
        "nonmember10", "株式会社東大阪電解", "ヒガシオオサカデンカイ", "osaka", 20, 20_000_000,
        904_010,
        capabilities=[
            "electrolytic copper 800x500x500 40kg Ra0.1 1-5000 14d 1500/mo",
        ],
    ), True, "銅の電解研磨。"),
    (CompanySpec(
        "nonmember11", "株式会社刈谷ブラストサービス", "カリヤブラストサービス", "aichi", 10,
        10_000_000, 904_011,
        capabilities=[
            "blasting stainless 1000x800x600 100kg Ra1.6 1-10000 5d 5000/mo; 自動車部品",
        ],
    ), False, "紹介の同意は未取得（先方に確認中）。"),
    (CompanySpec(
        "nonmember12", "有限会社新潟樹脂研磨", "ニイガタジュシケンマ", "niigata", 4, 3_000_000,
        904_012, invoice_registered=False,
        capabilities=[
            "buff resin 400x300x200 3kg #1500 1-2000 10d 500/mo; アクリル・ポリカーボネート",
        ],
    ), False, "樹脂のバフ研磨。紹介の同意は未取得。"),
]

# プロシアムネット members: dies, pressing, product planning.
PROSIUM_MEMBERS = [
    CompanySpec(
        "partner01", "株式会社三条金型製作所", "サンジョウカナガタセイサクショ", "sanjo", 28,
        30_000_000, 905_001, name_en="Sanjo Die Works Co., Ltd.", joined_on=_d(2004, 6, 1),
        capabilities=[
            "die_making steel 1500x1000x800 3000kg Ra0.4 1-10 30d 4/mo; 順送金型・絞り金型",
        ],
        equipment=[("マシニングセンタ", 4, ""), ("ワイヤー放電加工機", 2, "")],
    ),
    CompanySpec(
        "partner02", "株式会社燕プレス工業", "ツバメプレスコウギョウ", "tsubame", 45, 40_000_000,
        905_002, name_en="Tsubame Press Industry Co., Ltd.", joined_on=_d(2004, 6, 1),
        capabilities=[
            "pressing stainless 800x600x300 10kg #400 1000-500000 21d 100000/mo; 200 t〜400 t",
            "pressing aluminium 800x600x300 10kg #400 1000-500000 21d 80000/mo",
        ],
        equipment=[("プレス機 200 t", 6, ""), ("プレス機 400 t", 2, "")],
    ),
    CompanySpec(
        "partner03", "株式会社越後深絞り", "エチゴフカシボリ", "tsubame", 20, 10_000_000,
        905_003, joined_on=_d(2004, 6, 1),
        capabilities=[
            "pressing stainless 500x500x400 8kg #400 500-100000 21d 30000/mo;"
            " 深絞り（タンブラー・鍋）",
            "pressing titanium 300x300x200 3kg #400 500-20000 28d 5000/mo",
        ],
        equipment=[("油圧プレス 300 t", 3, "")],
    ),
    CompanySpec(
        "partner04", "株式会社加茂精工", "カモセイコウ", "kamo", 16, 10_000_000, 905_004,
        joined_on=_d(2005, 4, 1),
        capabilities=[
            "die_making steel 800x600x500 1000kg Ra0.8 1-10 25d 3/mo",
            "pressing steel 600x400x200 5kg #240 1000-200000 21d 50000/mo",
        ],
    ),
    CompanySpec(
        "partner05", "有限会社プロダクト企画つばめ", "プロダクトキカクツバメ", "tsubame", 5,
        3_000_000, 905_005, invoice_registered=False, joined_on=_d(2005, 4, 1),
        description="製品企画・パッケージ・販促什器のデザイン。",
        capabilities=[
            "display resin 1800x900x600 30kg Ra1.6 1-500 30d 50/mo; 店頭什器の企画・製作",
        ],
    ),
]
PROSIUM_LEAD = ("partner02", _d(2006, 3, 10), ("partner01", "partner03"), (3, 0, 0))

# fmt: on

# ---------------------------------------------------------------------------------------
# People without a company, and people with a seat.

# username, last name, first name, position
MIGAKIYA_SECRETARIAT = [
    ("jimukyoku", "高野", "広美", "事務局長"),
    ("jimukyoku2", "若林", "拓海", "事務局員"),
]
PROSIUM_SECRETARIAT = [("prosium", "宮下", "紀子", "事務局")]
# username, last name, first name, position, company key (None: no company)
MIGAKIYA_COMMITTEE = [
    ("iinkai", "小川", "和夫", "委員長", None),
    ("iinkai2", "中野", "正", "技能士部会 部会長", "member03"),
    ("iinkai3", "坂上", "信行", "技能士部会 副部会長", "member01"),
    ("iinkai4", "山田", "一郎", "委員（受注幹事企業）", "lead01"),
    ("iinkai5", "大平", "誠司", "委員（受注幹事企業）", "lead03"),
    ("iinkai6", "長谷川", "光男", "委員（受注幹事企業）", "lead05"),
]

# username, kind, name, organisation, e-mail, phone, prefecture
BUYERS = [
    (
        "buyer",
        "company",
        "森 健一",
        "株式会社東都精密機器",
        "mori@toto-seimitsu.example.jp",
        "03-3456-7890",
        "13",
    ),
    (
        "buyer2",
        "company",
        "石川 智子",
        "株式会社越乃酒造",
        "ishikawa@koshino-shuzo.example.jp",
        "025-222-3456",
        "15",
    ),
    ("kojin", "individual", "佐々木 由美", "", "sasaki.yumi@example.jp", "", "13"),
]

# The logins printed at the end: (Japanese label, English label, username).
MAIN_LOGINS = [
    ("プラットフォーム管理者", "Platform admin", "admin"),
    ("事務局", "Secretariat", "jimukyoku"),
    ("運営委員会 委員長", "Steering committee chair", "iinkai"),
    ("受注幹事企業", "Lead company", "lead01"),
    ("共同受注部会員", "Joint-order member", "member01"),
    ("賛助会員", "Supporting member", "support01"),
    ("発注者（企業）", "Buyer (company)", "buyer"),
    ("発注者（個人）", "Buyer (individual)", "kojin"),
    ("プロシアムネット事務局", "Partner network (Prosium Net) secretariat", "prosium"),
]
