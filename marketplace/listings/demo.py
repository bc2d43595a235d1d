"""Demo data for a fresh install: two users and a dozen listings (`flask --app app seed-demo`)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from core.db import db
from marketplace.listings.services import create_listing
from marketplace.listings.status import apply_status, change_listing_status
from marketplace.models import Listing, User
from marketplace.signals import emit_listing_status_changed
from marketplace.users.services import register_user

#: the documented password of the demo accounts when DEMO_PASSWORD is not set
DEFAULT_DEMO_PASSWORD = "paipai-demo-2024"
DEMO_USERS = (("demo1", "小林同学"), ("demo2", "阿杰"))

# (seller, kind, title, description, price_cents, category, condition, city, final status)
# A reserved/sold/given listing names the other demo user as its buyer.
DEMO_LISTINGS = (
    ("demo1", "sale", "九成新 iPhone 13 128G 午夜色", "自用一年,电池健康 89%,无划痕无维修,送原装手机壳和钢化膜。可当面验机。",
     250000, "electronics", "like_new", "上海", "active"),
    ("demo1", "sale", "宜家 BILLY 书架 白色 80cm", "搬家出,五层书架,稳固无晃动。需自提,徐汇区漕河泾附近。",
     15000, "furniture", "good", "上海", "reserved"),
    ("demo1", "sale", "考研数学全套资料 张宇 2025", "基础30讲+1000题+真题,笔记不多,字迹工整。包邮(江浙沪)。",
     5000, "books", "good", "北京", "sold"),
    ("demo1", "donation", "免费送:婴儿推车,可折叠", "孩子大了用不上,轮子有些磨损但功能正常,希望给有需要的家庭。",
     0, "baby", "fair", "杭州", "active"),
    ("demo1", "sale", "捷安特 ATX 山地车 27.5寸", "2022年购入,骑行约800公里,变速顺滑,刹车刚换过。",
     120000, "sports", "good", "杭州", "active"),
    ("demo1", "donation", "免费送:一箱绿萝和多肉盆栽", "阳台植物太多了,连盆一起送,大约十盆,长势很好。",
     0, "home", "good", "上海", "given"),
    ("demo2", "sale", "索尼 WH-1000XM4 降噪耳机", "黑色,降噪效果很好,耳罩已换新,配件齐全带盒子。",
     90000, "electronics", "like_new", "深圳", "active"),
    ("demo2", "sale", "戴森吹风机 HD08 全新未拆封", "公司年会奖品,全新未拆封,可开发票。",
     220000, "appliances", "new", "深圳", "active"),
    ("demo2", "donation", "免费送:大学英语教材若干", "新视野大学英语1-4册,有少量笔记,毕业清理,自取。",
     0, "books", "fair", "北京", "active"),
    ("demo2", "sale", "任天堂 Switch OLED 白色 带两个游戏", "国行续航版,附塞尔达和马里奥赛车,屏幕贴膜无坏点。",
     180000, "electronics", "like_new", "广州", "reserved"),
    ("demo2", "sale", "小米空气净化器 4 Pro", "用了一年半,滤芯上个月刚换,噪音小。",
     60000, "appliances", "good", "成都", "sold"),
    ("demo2", "donation", "免费送:猫爬架,搬家带不走", "1.2米猫爬架,剑麻柱有抓痕,结构完好,限成都自提。",
     0, "pets", "good", "成都", "active"),
)


@dataclass
class SeedReport:
    users_created: list[str]
    listings_created: int


def _ensure_user(username: str, nickname: str, password: str, report: SeedReport) -> User:
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        user = register_user(username=username, password=password, nickname=nickname)
        report.users_created.append(username)
    return user


def _finish(listing: Listing, *, seller: User, buyer: User, status: str) -> None:
    """Walk a new listing to `status` the way its seller would."""
    if status == "active":
        return
    with db.transaction() as s:
        row = s.scalars(select(Listing).where(Listing.id == listing.id).with_for_update(of=Listing)).one()
        old_status = apply_status(s, listing=row, status="reserved")
        # Demo deals are made up: no chat or claim precedes them, so the buyer is set here, not named
        # through the status change (which only accepts a real counterparty).
        row.buyer_id = buyer.id
    emit_listing_status_changed(listing_id=listing.id, old_status=old_status, new_status="reserved",
                                actor_id=seller.id)
    if status != "reserved":
        change_listing_status(actor=seller, listing_id=listing.id, status=status)


def seed_demo(*, password: str) -> SeedReport:
    """Create the demo users and listings that do not exist yet (running it again changes nothing)."""
    report = SeedReport(users_created=[], listings_created=0)
    users = {name: _ensure_user(name, nick, password, report) for name, nick in DEMO_USERS}
    for seller_name, kind, title, description, price, category, condition, city, status in DEMO_LISTINGS:
        seller = users[seller_name]
        buyer = next(user for name, user in users.items() if name != seller_name)
        exists = db.session.scalar(select(Listing.id).where(Listing.seller_id == seller.id,
                                                            Listing.title == title))
        if exists is not None:
            continue
        listing = create_listing(seller=seller, kind=kind, title=title, description=description,
                                 price_cents=price, category=category, condition=condition, city=city)
        _finish(listing, seller=seller, buyer=buyer, status=status)
        report.listings_created += 1
    return report
