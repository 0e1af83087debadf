"""A polishing shop and the secretariat use the member pages in a real browser."""

import pytest
from django.urls import reverse

from members.models import Capability, StaffRole
from tests.factories import (
    CapabilityFactory,
    CompanyFactory,
    CompanyUserFactory,
    MaterialFactory,
    MembershipFactory,
    NetworkFactory,
    NetworkStaffFactory,
    ProcessFactory,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def catalogue(transactional_db):
    return {
        "buff": ProcessFactory(code="buff", name_ja="バフ研磨", name_en="Buff polishing"),
        "barrel": ProcessFactory(code="barrel", name_ja="バレル研磨", name_en="Barrel polishing"),
        "sus": MaterialFactory(code="sus", name_ja="ステンレス", name_en="Stainless steel"),
        "ti": MaterialFactory(code="ti", name_ja="チタン", name_en="Titanium"),
    }


@pytest.fixture
def syndicate(transactional_db):
    return NetworkFactory(name="磨き屋シンジケート", name_en="Migakiya Syndicate", slug="migakiya")


@pytest.fixture
def shop_owner(syndicate):
    user = CompanyUserFactory(
        username="tsubame-buff",
        last_name="燕",
        first_name="太郎",
        company__legal_name="株式会社燕バフ研磨",
        company__legal_name_kana="ツバメバフケンマ",
    )
    MembershipFactory(network=syndicate, company=user.company)
    return user


def test_shop_owner_keeps_profile_and_capacity_current(
    page, log_in, screenshot, shop_owner, catalogue
):
    log_in(shop_owner)

    # Japanese by default, with the user's name and company in the header.
    assert page.locator(".brand").inner_text() == "共同受注プラットフォーム"
    assert "株式会社燕バフ研磨" in page.locator(".who").inner_text()
    assert page.locator("html").get_attribute("lang") == "ja"
    screenshot("01_home_company_user")

    # The company profile: a wrong corporate number is refused, a fix is saved.
    page.click("nav.main-nav >> text=自社情報")
    page.fill("#id_corporate_number", "1234567890123")
    page.click("button:has-text('保存する')")
    assert page.locator(".has-error .error").first.inner_text() == (
        "この法人番号のチェックデジットが正しくありません。"
    )
    page.fill("#id_corporate_number", shop_owner.company.corporate_number)
    page.fill("#id_city", "燕市大曲")
    page.fill("#id_phone", "0256-00-1234")
    page.click("button:has-text('保存する')")
    assert page.locator(".message.success").inner_text() == "会社情報を保存しました。"
    screenshot("02_company_profile")
    shop_owner.company.refresh_from_db()
    assert shop_owner.company.city == "燕市大曲"

    # A capability with an impossible size shows the error; fixed, it is listed.
    page.click("nav.main-nav >> text=対応可能加工と空き能力")
    page.click("text=対応可能加工を追加")
    page.select_option("#id_process", label="バフ研磨")
    page.select_option("#id_material", label="ステンレス")
    page.fill("#id_max_length_mm", "-600")
    page.fill("#id_max_width_mm", "300")
    page.fill("#id_max_height_mm", "200")
    page.fill("#id_max_weight_kg", "15")
    page.check("input[name=finish_kind][value=grit]")
    page.fill("#id_finish_grit", "800")
    page.fill("#id_lot_max", "1000")
    page.fill("#id_lead_time_days", "10")
    page.fill("#id_spare_capacity_per_month", "200")
    page.click("button:has-text('保存する')")
    assert page.locator(".form-errors").is_visible()
    assert page.locator(".field.has-error #id_max_length_mm").count() == 1
    screenshot("03_capability_form_error")
    assert not Capability.objects.exists()

    page.fill("#id_max_length_mm", "600")
    page.click("button:has-text('保存する')")
    assert page.locator(".message.success").inner_text() == "対応可能加工を追加しました。"
    row = page.locator("table.data tbody tr").first
    assert "バフ研磨" in row.inner_text()
    assert "#800" in row.inner_text()

    # The quick form on the row: this month's spare capacity.
    capability = Capability.objects.get()
    row.locator(f"#id_spare_{capability.pk}_spare_capacity_per_month").fill("1500")
    row.locator("button:has-text('更新')").click()
    assert "月 1,500 個に更新しました" in page.locator(".message.success").inner_text()
    capability.refresh_from_db()
    assert capability.spare_capacity_per_month == 1500
    screenshot("04_capabilities")


def test_secretariat_filters_the_member_directory(page, log_in, screenshot, syndicate, catalogue):
    secretariat = NetworkStaffFactory(
        network=syndicate,
        role=StaffRole.SECRETARIAT,
        user__last_name="商工",
        user__first_name="花子",
    ).user
    for name, process, spare in (
        ("株式会社バフ一番", "buff", 800),
        ("有限会社バレル工業", "barrel", 300),
        ("株式会社ミラー仕上げ", "buff", 0),
    ):
        company = CompanyFactory(legal_name=name)
        MembershipFactory(network=syndicate, company=company)
        CapabilityFactory(
            company=company,
            process=catalogue[process],
            material=catalogue["sus"],
            spare_capacity_per_month=spare,
        )
    log_in(secretariat)
    screenshot("05_home_secretariat")

    page.click("nav.main-nav >> text=会員名簿")
    assert page.url.endswith(reverse("member_directory", args=[syndicate.pk]))
    assert page.locator("table.data tbody tr").count() == 3

    page.select_option("#id_process", label="バレル研磨")
    page.click("button:has-text('絞り込む')")
    rows = page.locator("table.data tbody tr")
    assert rows.count() == 1
    assert "有限会社バレル工業" in rows.first.inner_text()

    page.select_option("#id_process", label="バフ研磨")
    page.fill("#id_min_spare", "100")
    page.click("button:has-text('絞り込む')")
    assert page.locator("table.data tbody tr").count() == 1
    assert "株式会社バフ一番" in page.locator("table.data tbody").inner_text()
    page.click("text=条件をクリア")
    assert page.locator("table.data tbody tr").count() == 3
    screenshot("06_member_directory")

    page.click("text=株式会社バフ一番")
    assert page.locator("h1").inner_text() == "株式会社バフ一番"
    screenshot("07_company_detail")


def test_language_switch(page, log_in, screenshot, shop_owner, catalogue):
    CapabilityFactory(
        company=shop_owner.company, process=catalogue["buff"], material=catalogue["ti"]
    )
    log_in(shop_owner)
    assert page.locator(".brand").inner_text() == "共同受注プラットフォーム"

    page.click("button[name=language][value=en]")
    assert page.locator(".brand").inner_text() == "Joint-order platform"
    assert page.locator("html").get_attribute("lang") == "en"
    page.click("nav.main-nav >> text=Capabilities and spare capacity")
    assert "Buff polishing" in page.locator("table.data").inner_text()
    screenshot("08_capabilities_english")

    page.click("button[name=language][value=ja]")
    assert page.locator("h1").inner_text() == "対応可能加工と空き能力"
