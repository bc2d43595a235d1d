"""Realistic second-hand listings in Chinese for the search benchmark, made from word lists, and the
queries (2–4 characters, each with a category) asked of them. Deterministic for a given seed."""
from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

# category -> (brands, items): an item is what a buyer types; brands are sometimes part of the title.
CATALOG: dict[str, tuple[list[str], list[str]]] = {
    "electronics": (["苹果", "华为", "小米", "索尼", "联想", "戴尔", "佳能", "尼康", "任天堂", "OPPO", "vivo", "三星"],
                    ["手机", "笔记本电脑", "平板电脑", "蓝牙耳机", "降噪耳机", "单反相机", "微单相机", "显示器",
                     "机械键盘", "无线鼠标", "充电宝", "智能手表", "游戏机", "路由器", "移动硬盘"]),
    "furniture": (["宜家", "全友", "顾家", "林氏木业", "源氏木语", "无印良品"],
                  ["书架", "沙发", "餐桌", "椅子", "衣柜", "床垫", "书桌", "台灯", "鞋柜", "电视柜", "置物架", "懒人沙发"]),
    "sports": (["捷安特", "美利达", "迪卡侬", "李宁", "尤尼克斯", "威尔胜", "斯伯丁"],
               ["自行车", "山地车", "公路车", "跑步机", "哑铃", "瑜伽垫", "篮球", "羽毛球拍", "网球拍", "滑板",
                "帐篷", "登山包", "健身环"]),
    "books": (["人民文学", "商务印书馆", "中信出版", "新东方", "高等教育"],
              ["教材", "小说", "考研资料", "漫画", "词典", "绘本", "公务员考试", "英语四六级", "编程书", "杂志"]),
    "clothing": (["耐克", "阿迪达斯", "优衣库", "波司登", "安踏", "李宁", "ZARA", "北面"],
                 ["羽绒服", "运动鞋", "连衣裙", "牛仔裤", "卫衣", "冲锋衣", "双肩包", "帆布鞋", "大衣", "围巾"]),
    "baby": (["好孩子", "贝亲", "babycare", "乐高", "费雪"],
             ["婴儿车", "安全座椅", "奶瓶", "婴儿床", "积木", "儿童自行车", "学步车", "绘本", "玩具", "餐椅"]),
    "appliances": (["美的", "格力", "海尔", "戴森", "飞利浦", "松下", "九阳", "小熊"],
                   ["冰箱", "洗衣机", "空调", "微波炉", "电饭煲", "吸尘器", "吹风机", "空气净化器", "电风扇",
                    "加湿器", "咖啡机", "烤箱"]),
    "music": (["雅马哈", "卡西欧", "罗兰", "芬达", "吉普森"],
              ["吉他", "电子琴", "钢琴", "尤克里里", "小提琴", "架子鼓", "音箱", "调音台", "口琴"]),
    "beauty": (["兰蔻", "雅诗兰黛", "资生堂", "欧莱雅", "SK-II", "科颜氏"],
               ["面霜", "精华液", "口红", "香水", "眼霜", "粉底液", "洗面奶", "防晒霜"]),
    "other": (["晨光", "得力", "故宫文创", "泡泡玛特"],
              ["文具", "盲盒", "手办", "收藏品", "邮票", "花盆", "行李箱", "雨伞", "台历"]),
}
CONDITIONS = ["全新", "99新", "95新", "九成新", "八成新", "七成新", "几乎全新", "未拆封", "有使用痕迹"]
CONDITION_KEYS = ["new", "like_new", "good", "fair"]
CITIES = ["上海", "北京", "杭州", "深圳", "广州", "成都", "南京", "武汉", "西安", "苏州", "重庆", "天津"]
DISTRICTS = ["浦东", "徐汇", "朝阳", "海淀", "西湖", "南山", "天河", "高新区", "鼓楼", "江汉", "雁塔", "园区"]
COLORS = ["白色", "黑色", "灰色", "原木色", "蓝色", "粉色", "银色", "深空灰"]
EXTRAS = ["急出", "搬家转让", "毕业清仓", "自用", "闲置", "低价转", "包邮", "可小刀", "同城自提", "送配件"]
SENTENCES = [
    "自用{years}年,无划痕,功能完好。", "{city}{district}自提,也可以同城送货上门。", "原价{orig}元,现在{price}元出。",
    "配件齐全,包装盒和发票都在,支持当面验货。", "搬家急出,价格好商量,非诚勿扰。", "只用过几次,几乎全新,买来就闲置了。",
    "有轻微使用痕迹,不影响使用,介意勿拍。", "{color}款,成色如图,实物比图片好看。", "同城优先,外地包邮(偏远地区除外)。",
    "毕业季清仓,宿舍楼下可以面交。", "不退不换,拍前请问清楚。", "送{gift},先到先得。", "可以小刀,砍价太狠的请绕道。",
    "保修还剩{months}个月,可以查序列号。", "因为换了新的所以出掉,平时很爱惜。", "周末可以看货,工作日晚上七点以后。",
]
GIFTS = ["保护壳", "收纳袋", "充电器", "说明书", "贴纸", "备用零件", "小礼品"]
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def listing_row(rng: random.Random, listing_id: int, seller_ids: list[int]) -> dict:
    """One active sale listing: a title of condition + brand + item + color/extra, a few descriptive sentences."""
    category = rng.choice(list(CATALOG))
    brands, items = CATALOG[category]
    brand, item, city = rng.choice(brands), rng.choice(items), rng.choice(CITIES)
    price = rng.randint(1, 800) * 100 * rng.choice([1, 1, 1, 10])
    parts = [rng.choice(CONDITIONS), brand + rng.choice(["", " "]) + item, rng.choice(COLORS + EXTRAS)]
    if rng.random() < 0.3:
        parts.insert(0, rng.choice(EXTRAS))
    title = " ".join(parts)[:80]
    fill = {"years": rng.randint(1, 5), "city": city, "district": rng.choice(DISTRICTS),
            "orig": price // 100 * rng.randint(2, 4), "price": price // 100, "color": rng.choice(COLORS),
            "gift": rng.choice(GIFTS), "months": rng.randint(1, 18)}
    description = "".join(s.format(**fill) for s in rng.sample(SENTENCES, rng.randint(2, 5)))
    at = EPOCH + timedelta(seconds=rng.randint(0, 300 * 86400))
    return {"id": listing_id, "seller_id": rng.choice(seller_ids), "kind": "sale", "title": title,
            "description": description, "price_cents": price, "category": category,
            "condition": rng.choice(CONDITION_KEYS), "images": [], "city": city, "status": "active",
            "favorite_count": 0, "created_at": at, "updated_at": at}


def queries(rng: random.Random, count: int) -> list[dict]:
    """`count` searches: an item, brand, condition or phrase of 2–4 characters with a category filter
    (usually the category it belongs to, sometimes another one)."""
    made: list[dict] = []
    phrases = ["自提", "验货", "原价", "包邮", "小刀", "九成新", "全新", "急出", "闲置", "面交", "保修", "白色"]
    while len(made) < count:
        category = rng.choice(list(CATALOG))
        brands, items = CATALOG[category]
        q = rng.choice([rng.choice(items), rng.choice(items), rng.choice(brands), rng.choice(phrases)])
        if not 2 <= len(q) <= 4:
            continue
        if rng.random() < 0.15:
            category = rng.choice(list(CATALOG))
        made.append({"q": q, "category": category})
    return made
