"""Synthetic FAQ entries for the benchmark: everyday questions that share ordinary words across entries.

A plausible maintainer's FAQ about gym equipment, kitchens, travel, phones, homes, cars, pets and gardens:
nouns, verbs and problems per domain, combined by question templates grouped by what they ask
(the other templates of a group give an entry's alternates). Nouns are drawn Zipf-like, so common
ones (手机, 跑步机) appear in thousands of entries, as in a real FAQ. Some entries are near-duplicates
of another (the same question with other punctuation or a particle such as 呢/啊), and some entries'
alternates are another entry's question. No word of our own domain (营销, 销售, 市场, 运营 …) is used.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from typing import Any

SEED = 20240611
# (nouns, domain verbs, problems) per domain; space-separated, read once by _domains()
DOMAINS: dict[str, tuple[str, str, str]] = {
    "健身": (
        "杠铃 哑铃 壶铃 跑步机 椭圆机 动感单车 划船机 瑜伽垫 弹力带 卧推架 深蹲架 史密斯机 龙门架 引体向上杆 "
        "健腹轮 跳绳 泡沫轴 筋膜枪 护腕 护膝 护腰 助力带 举重腰带 健身手套 蛋白粉 肌酸 增肌粉 运动水壶 "
        "杠铃片 哑铃凳 仰卧板 踏步机 拉力器 握力器 沙袋 拳击手套 瑜伽球 平衡垫 运动手环 心率带 体脂秤 "
        "跑鞋 运动内衣 速干衣 压缩裤 登山鞋 健身包 阻力带 单杠 双杠 臂力棒 腹肌板 椭圆仪 划船器 健身车",
        "锻炼 练习 拉伸 热身 调节 组装 拆卸 润滑 校准 折叠 搬运 加油 试用 训练 放松 消毒 晾干 固定",
        "有异响 打滑 生锈 跑带跑偏 漏油 显示屏不亮 阻力变小 螺丝松动 有异味 开胶 断裂 掉漆 卡顿 摇晃",
    ),
    "厨房": (
        "铁锅 砂锅 不粘锅 高压锅 电饭煲 空气炸锅 烤箱 微波炉 菜刀 砧板 蒸锅 豆浆机 破壁机 榨汁机 咖啡机 "
        "电磁炉 燃气灶 抽油烟机 洗碗机 消毒柜 保鲜盒 保温杯 水壶 电水壶 平底锅 汤锅 炒锅 蒸笼 面包机 "
        "绞肉机 打蛋器 厨房秤 量杯 擀面杖 漏勺 锅铲 筷子 碗柜 冰箱 酸奶机 料理机 电饼铛 煮蛋器 烧烤架 "
        "牛排 鸡蛋 米饭 面条 饺子 排骨 红烧肉 土豆 西红柿 鸡翅 鱼 虾 豆腐 青菜 馒头 包子 粽子 月饼 蛋糕 "
        "面包 饼干 咖啡豆 茶叶 蜂蜜 酱油 醋 花生油 橄榄油 大米 面粉 酵母 黄油 奶油 芝士 牛奶 酸奶 火锅底料",
        "做 煮 炒 蒸 炖 烤 煎 炸 腌 解冻 保存 冷藏 冷冻 切 洗 去腥 去油 开锅 除垢 预热 加热 清理",
        "粘锅 糊底 漏气 不加热 有焦味 生锈 跳闸 不转 漏水 发霉 变质 有异味 噪音大 不出水 结垢 发黑 变硬",
    ),
    "旅行": (
        "行李箱 护照 签证 机票 酒店 民宿 高铁 火车票 登机牌 背包 充电宝 转换插头 旅行枕 洗漱包 雨伞 防晒霜 "
        "身份证 驾照 港澳通行证 台胞证 信用卡 外币 电话卡 随身wifi 地图 导航 景区门票 缆车 游轮 大巴 "
        "租车 自驾 帐篷 睡袋 登山杖 头灯 冲锋衣 羽绒服 保温壶 相机包 自拍杆 行李牌 密码锁 收纳袋 颈枕 "
        "托运行李 随身行李 航班 候机楼 贵宾厅 免税店 退税单 保险 行程单 旅行团 导游 攻略 路线 青旅",
        "预订 办理 改签 退订 托运 打包 携带 兑换 续签 申请 取消 延期 值机 报销 投保 规划 出发 入住",
        "丢了 过期 损坏 被拒 延误 超重 被偷 打不开 无法使用 没电 信号不好 被取消 晚点 漏发 找不到",
    ),
    "手机": (
        "手机 充电器 数据线 耳机 蓝牙耳机 平板 笔记本电脑 键盘 鼠标 路由器 屏幕 电池 手机壳 钢化膜 相机 "
        "镜头 手表 智能手表 音箱 蓝牙音箱 移动硬盘 u盘 内存卡 显示器 打印机 投影仪 游戏机 手柄 读卡器 "
        "无线充电器 快充头 扩展坞 网线 机顶盒 电视 麦克风 摄像头 云台 稳定器 电纸书 学习机 翻译机 "
        "主板 显卡 固态硬盘 散热器 机箱 电源 内存条 触控笔 支架 充电线 电源适配器 手机卡 耳机套",
        "充电 连接 配对 升级 重置 备份 恢复 格式化 设置 激活 解锁 截图 投屏 录屏 贴膜 换电池 刷机 降级",
        "发烫 卡顿 黑屏 死机 耗电快 充不进电 连不上 没声音 自动关机 屏幕失灵 闪退 进水 摔坏 蓝屏 有杂音",
    ),
    "家居": (
        "沙发 床垫 枕头 被子 窗帘 地毯 洗衣机 空调 热水器 扫地机器人 吸尘器 净水器 加湿器 除湿机 空气净化器 "
        "电风扇 取暖器 电热毯 晾衣架 衣柜 书桌 椅子 台灯 吊灯 马桶 花洒 浴缸 水龙头 地板 瓷砖 墙纸 乳胶漆 "
        "门锁 指纹锁 猫眼 插座 开关 灯泡 电视柜 鞋柜 茶几 餐桌 床 床单 蚊帐 凉席 抱枕 毛巾 浴巾 拖把 扫帚 "
        "垃圾桶 收纳箱 衣架 熨斗 挂烫机 缝纫机 烘干机 洗地机 除螨仪 新风机 地暖 暖气片 燃气热水器",
        "清洗 安装 拆洗 更换 晾晒 除螨 除味 翻新 铺 挂 修 刷 粘 打扫 消毒 调试 排水 换滤芯",
        "漏水 发霉 有异味 不制冷 不制热 跳闸 噪音大 掉色 起球 变形 开裂 堵了 漏电 滴水 不出热水 松动",
    ),
    "汽车": (
        "轮胎 机油 刹车片 雨刷 电瓶 火花塞 空气滤芯 空调滤芯 变速箱油 防冻液 玻璃水 行车记录仪 车载充电器 "
        "座椅套 脚垫 车衣 倒车雷达 倒车影像 导航仪 车载冰箱 安全座椅 备胎 千斤顶 灭火器 三角架 充气泵 "
        "自行车 电动车 摩托车 头盔 车锁 链条 车灯 后视镜 方向盘 油箱 充电桩 车牌 年检 驾驶证 保养手册",
        "更换 检查 保养 加注 补胎 打蜡 洗 充气 调整 拆装 检测 维修 充电 试驾 上牌 过户",
        "漏气 异响 抖动 打不着火 亏电 漏油 起雾 生锈 刮花 异味 偏磨 鼓包 报警 打滑 熄火",
    ),
    "宠物": (
        "猫粮 狗粮 猫砂 猫砂盆 狗绳 宠物窝 猫爬架 逗猫棒 宠物航空箱 驱虫药 疫苗 宠物沐浴露 宠物梳子 指甲剪 "
        "饮水机 自动喂食器 磨牙棒 罐头 冻干 鱼缸 水草 乌龟 仓鼠笼 鸟笼 宠物尿垫 宠物玩具 宠物衣服",
        "喂 洗澡 驱虫 打疫苗 剪指甲 训练 遛 换粮 绝育 梳毛 铲屎 托运 寄养 体检",
        "掉毛 不吃东西 拉肚子 呕吐 挑食 乱叫 乱尿 抓沙发 发抖 打喷嚏 有跳蚤 口臭 流眼泪",
    ),
    "园艺": (
        "多肉 绿萝 吊兰 月季 茉莉 发财树 君子兰 仙人掌 兰花 栀子花 薄荷 番茄苗 花盆 花土 营养土 化肥 "
        "有机肥 喷壶 剪刀 铲子 花架 种子 球根 草坪 水培瓶 滴灌器 杀虫剂 生根粉 鹅卵石 陶粒",
        "浇水 施肥 换盆 修剪 扦插 播种 移栽 晒太阳 松土 杀虫 过冬 养护 繁殖 嫁接",
        "黄叶 烂根 掉叶子 长虫 不开花 徒长 发蔫 枯萎 长霉 叶子发黑 生虫 晒伤 冻伤",
    ),
    "服装": (
        "羽绒服 棉袄 风衣 西装 衬衫 卫衣 毛衣 牛仔裤 运动裤 连衣裙 半身裙 打底裤 袜子 内裤 睡衣 围巾 帽子 手套 "
        "皮鞋 运动鞋 帆布鞋 拖鞋 凉鞋 雪地靴 高跟鞋 皮带 领带 书包 双肩包 钱包 手提包 雨衣 校服 工装 羊绒衫 "
        "真丝衬衫 皮衣 马甲 保暖内衣 秋裤 泳衣 泳镜 墨镜 手链 项链 耳环 戒指 发夹",
        "洗 熨 叠 晾 改 缝 染 干洗 手洗 机洗 搭配 试穿 修补 防皱 去球 护理 除味",
        "缩水 掉色 起球 变形 开线 起皱 发黄 掉毛 磨脚 有褶子 起静电 脱胶 掉钻 变硬 霉斑",
    ),
    "母婴": (
        "奶瓶 奶粉 纸尿裤 婴儿车 安全座椅 婴儿床 口水巾 吸奶器 温奶器 辅食机 学步车 儿童餐椅 湿巾 爽身粉 "
        "护臀膏 奶嘴 牙胶 背带 腰凳 睡袋 隔尿垫 体温计 吸鼻器 儿童牙刷 绘本 积木 拼图 滑板车 平衡车 儿童自行车",
        "冲 喂 换 消毒 煮 哄睡 拍嗝 洗澡 抚触 辅食 断奶 转奶 添加 清洁 收纳",
        "漏奶 胀气 红屁股 过敏 吐奶 哭闹 不吃奶 便秘 起疹子 发烧 咳嗽 夜醒 挑食",
    ),
    "美妆": (
        "洗面奶 面霜 精华液 爽肤水 乳液 面膜 眼霜 隔离霜 粉底液 气垫 散粉 口红 唇膏 眉笔 眼线笔 睫毛膏 腮红 "
        "卸妆水 卸妆油 洗发水 护发素 发膜 染发剂 吹风机 卷发棒 直板夹 剃须刀 电动牙刷 冲牙器 香水 指甲油 美容仪",
        "涂 擦 卸 敷 补 洗 吹 卷 拉直 染 修眉 保湿 去角质 美白 防晒 护理",
        "闷痘 过敏 脱妆 卡粉 起皮 泛油 干燥 长痘 掉发 分叉 毛躁 发红 刺痛 结块 过期",
    ),
    "办公": (
        "打印纸 墨盒 硒鼓 复印机 碎纸机 订书机 文件夹 笔记本 签字笔 中性笔 钢笔 铅笔 橡皮 尺子 计算器 便利贴 "
        "白板 投影幕布 会议桌 办公椅 升降桌 台历 档案柜 保险柜 考勤机 扫描仪 塑封机 装订机 快递盒 胶带 信封",
        "打印 复印 扫描 装订 归档 盖章 邮寄 签收 报修 申领 登记 盘点 整理 分类 寄送",
        "卡纸 缺墨 打印不清楚 连不上网 漏墨 没反应 卡住 断墨 坏掉 丢失 受潮",
    ),
    "运动": (
        "篮球 足球 排球 羽毛球 乒乓球 网球 高尔夫球 羽毛球拍 乒乓球拍 网球拍 球鞋 护踝 护肘 滑板 轮滑鞋 "
        "滑雪板 滑雪镜 泳帽 鱼竿 鱼线 渔轮 登山包 攀岩鞋 飞盘 毽子 呼啦圈 沙滩排球 棒球手套 球网 计分板",
        "打 踢 练 穿线 充气 换胶皮 缠手胶 打磨 上蜡 抛竿 调鱼漂 报名 比赛 热身 拉伸",
        "漏气 开胶 断线 变形 打滑 脱皮 磨损 掉漆 开裂 发软 弹性变差 扭伤",
    ),
    "乐器": (
        "钢琴 电钢琴 吉他 尤克里里 小提琴 大提琴 古筝 二胡 笛子 萨克斯 口琴 架子鼓 电子琴 琵琶 葫芦丝 "
        "节拍器 调音器 琴弦 琴包 变调夹 松香 谱架 音箱 耳返 手卷钢琴 拇指琴 竖笛 单簧管 长笛",
        "调音 换弦 练 弹 拉 吹 保养 擦拭 收纳 搬运 考级 校音 录音",
        "跑音 打品 断弦 开裂 受潮 有杂音 按键不灵 掉漆 漏气 走音",
    ),
    "健康": (
        "体温计 血压计 血糖仪 口罩 创可贴 碘伏 酒精 棉签 退烧贴 维生素 钙片 鱼油 益生菌 眼药水 护眼灯 "
        "按摩椅 按摩枕 颈椎枕 足浴盆 艾灸盒 拔罐器 理疗仪 助听器 老花镜 近视眼镜 隐形眼镜 护理液 轮椅 拐杖 制氧机",
        "测 吃 用 戴 摘 泡 贴 量 校准 更换 清洗 消毒 存放 服用",
        "不准 过期 发炎 起雾 过敏 头晕 漏电 读数不稳 眼睛干 刺痛 发痒",
    ),
    "食品": (
        "坚果 核桃 杏仁 腰果 开心果 瓜子 花生 红枣 枸杞 桂圆 葡萄干 巧克力 糖果 薯片 辣条 方便面 螺蛳粉 "
        "自热火锅 速冻水饺 汤圆 腊肠 火腿 牛肉干 海苔 燕麦片 麦片 全麦面包 豆浆 果汁 可乐 矿泉水 苏打水 啤酒 "
        "白酒 红酒 黄酒 绿茶 红茶 乌龙茶 普洱茶 花茶 奶茶 咖啡粉 冰淇淋 酸梅汤 大闸蟹 小龙虾 榴莲 芒果 车厘子 "
        "草莓 苹果 香蕉 橙子 葡萄 西瓜 猕猴桃 柚子 荔枝 樱桃 蓝莓 牛油果",
        "吃 泡 存放 保存 冷藏 冷冻 解冻 加热 剥 洗 挑 催熟 去皮 腌 晒干 密封",
        "受潮 发霉 变质 哈喇味 长虫 化了 变软 变苦 有沉淀 胀袋 过期 发酸",
    ),
}
GENERIC_VERBS = "挑选 购买 使用 保养 清洗 收纳 存放 维修 更换 安装 退货 保修 检查 选购 网购 处理"
MODIFIERS = (
    "家用 商用 二手 新买的 便宜的 进口 国产 小型 大号 迷你 折叠 无线 电动 手动 不锈钢 实木 塑料 "
    "儿童 老人用的 便携 大容量 静音 智能 多功能 旧的 入门级 高端 一次性 加厚 防水"
)
WHO = (
    "新手 老人 孩子 女生 男生 学生 上班族 孕妇 胖子 初学者 宝妈 退休老人 小个子 高个子 租房的人 "
    "一个人住 三口之家 大学生 上了年纪的人 腰不好的人 膝盖不好的人 第一次出国的人 带娃的家庭"
)
PARTICLES = ("呢", "啊", "呀", "哈")
# endings an entry's question may carry; a near-duplicate takes another one (NFKC keeps ？ ！ 。 apart)
ENDINGS = ("", "？", "。", "！")
# template groups: an entry's question is one template of a group, its alternates others of the same group
GROUPS: list[list[str]] = [
    ["{n}怎么{v}", "{n}如何{v}", "{n}该怎么{v}", "怎样{v}{n}", "{v}{n}的正确方法", "{n}{v}的方法"],
    ["{n}和{n2}哪个好", "{n}跟{n2}选哪个", "{n}还是{n2}好", "{n}和{n2}买哪个"],
    ["{n}和{n2}有什么区别", "{n}跟{n2}的区别", "{n}和{n2}有什么不同", "{n}与{n2}差在哪"],
    ["{n}多重合适", "{n}选多重的", "{n}买多重的好", "{n}的重量怎么选"],
    ["{n}多少钱", "{n}一般什么价位", "{n}大概要花多少钱", "{n}贵不贵"],
    ["{n}什么牌子好", "{n}哪个牌子好", "推荐几款{n}", "{n}买什么牌子的"],
    ["{n}{p}怎么办", "{n}{p}是什么原因", "为什么{n}会{p}", "{n}{p}还能修吗"],
    ["{n}多久{v}一次", "{n}隔多长时间{v}", "{n}需要经常{v}吗"],
    ["{w}适合用{n}吗", "{w}能用{n}吗", "{n}适合{w}吗", "{w}用{n}要注意什么"],
    ["{n}可以{v}吗", "{n}能不能{v}", "{n}能{v}吗"],
    ["{v}{n}要注意什么", "{v}{n}有哪些注意事项", "{n}{v}的注意事项", "{v}{n}的时候要小心什么"],
    ["在哪里{v}{n}", "去哪{v}{n}", "哪里可以{v}{n}", "{n}在哪{v}"],
    ["第一次{v}{n}要准备什么", "{w}{v}{n}需要什么", "{v}{n}前要准备什么"],
    ["{n}值得买吗", "{n}值不值得买", "有必要买{n}吗", "{n}是智商税吗"],
    ["{n}能带上飞机吗", "{n}可以托运吗", "坐高铁能带{n}吗"],
    ["{n}用多久要换", "{n}能用几年", "{n}的寿命有多长", "{n}多久换一次"],
    ["{n}有异味怎么去除", "{n}有味道怎么办", "怎么去掉{n}的味道"],
    ["{n}、{n2}和{n3}怎么选", "{n}{n2}{n3}选哪个", "{n}、{n2}、{n3}哪个更实用"],
    ["{n}{v}不了怎么办", "{n}没法{v}", "{n}为什么{v}不了"],
    ["{n}坏了保修吗", "{n}保修多久", "{n}过了保修期怎么修"],
    ["{w}怎么{v}{n}", "{w}如何{v}{n}", "教{w}{v}{n}"],
    ["{n}和{n2}能一起用吗", "{n}可以配{n2}吗", "{n}搭配{n2}好不好"],
    ["{n}的尺寸怎么选", "{n}买多大的", "{n}多大合适"],
    ["{n}英语怎么说", "{n}用英语怎么讲", "{n}的英文名是什么"],
]
ANSWERS = (
    "{n}的{v}方法因型号而异，先看说明书，拿不准就问售后。",
    "一般来说{n}按使用频率定期{v}即可，别等出了问题再处理。",
    "看需求：{n}各有长短，按预算和空间取舍。",
    "多数{n}都有保修，留好购买凭证，有问题先联系商家。",
    "先断电或清空，再检查{n}的各个部件，必要时送修。",
)


@dataclass
class Synthetic:
    """The generated records, and per entry id what makes it hard (a near-duplicate, a shared phrasing)."""

    rows: list[dict[str, Any]]
    notes: dict[str, str]


def key(text: str) -> str:
    """Return the identity of a phrasing that no normaliser may merge away: NFKC and lower case, punctuation kept."""
    return unicodedata.normalize("NFKC", text).lower().strip()


def _words(text: str) -> list[str]:
    return text.split()


def _forbidden(word: str, banned: list[str]) -> bool:
    return any(b in word for b in banned)


class Vocab:
    """The generator's words, minus any that contains one of our domain's words."""

    def __init__(self, banned: list[str]) -> None:
        self.domains: list[tuple[str, list[str], list[str], list[str]]] = []
        for name, (nouns, verbs, problems) in DOMAINS.items():
            keep = [
                [w for w in dict.fromkeys(_words(s)) if not _forbidden(w, banned)]
                for s in (nouns, verbs + " " + GENERIC_VERBS, problems)
            ]
            self.domains.append((name, keep[0], keep[1], keep[2]))
        self.modifiers = [w for w in _words(MODIFIERS) if not _forbidden(w, banned)]
        self.who = [w for w in _words(WHO) if not _forbidden(w, banned)]
        # Zipf-like: the first nouns of a domain are asked about far more often than its last ones
        self.noun_weights = [[1.0 / (rank + 3) for rank in range(len(d[1]))] for d in self.domains]
        self.domain_weights = [len(d[1]) for d in self.domains]

    def size(self) -> int:
        """Return how many distinct words the generator can use."""
        words = {w for _, n, v, p in self.domains for w in (*n, *v, *p)}
        return len(words | set(self.modifiers) | set(self.who))


def banned_words() -> list[str]:
    """Return our domain's Chinese words (roles, aliases, jieba words) that synthetic text must not contain."""
    from rolebot.language.vocabulary import vocabulary

    v = vocabulary()
    words = {*v.roles, *v.aliases, *v.aliases.values(), *v.words}
    extra = ("产品", "用户", "内容", "品牌", "推广", "渠道", "电商", "业务", "职业", "岗位", "部门", "经理")
    return sorted({w for w in words if w and not w.isascii() and len(w) >= 2} | set(extra))


def _fill(rng: random.Random, vocab: Vocab) -> dict[str, str]:
    """Return slot values for one entry, all from one domain."""
    d = rng.choices(range(len(vocab.domains)), weights=vocab.domain_weights)[0]
    _, nouns, verbs, problems = vocab.domains[d]
    picks = rng.choices(nouns, weights=vocab.noun_weights[d], k=3)
    while len(set(picks)) < 3:
        picks = rng.choices(nouns, weights=vocab.noun_weights[d], k=3)
    n = picks[0]
    if rng.random() < 0.25:
        n = rng.choice(vocab.modifiers) + n
    return {
        "n": n,
        "n2": picks[1],
        "n3": picks[2],
        "v": rng.choice(verbs),
        "p": rng.choice(problems),
        "w": rng.choice(vocab.who),
    }


def generate(
    n: int, seed: int = SEED, near_dup: float = 0.04, shared_alt: float = 0.02, banned: list[str] | None = None
) -> Synthetic:
    """Return n synthetic FAQ records with distinct questions (by `key`), near-duplicates and shared phrasings."""
    rng = random.Random(seed)
    vocab = Vocab(banned if banned is not None else banned_words())
    taken: set[str] = set()
    rows: list[dict[str, Any]] = []
    while len(rows) < n:
        i = len(rows)
        eid = f"syn-{i:06d}"
        if rows and rng.random() < near_dup:
            # the same question as an earlier entry, but for its ending (？ vs nothing) or a particle (呢, 啊)
            base = rows[rng.randrange(len(rows))]
            stem = base["_stem"]
            ending = rng.choice(ENDINGS)
            particle = rng.choice(("", "", *PARTICLES))
            question = stem + particle + ending
            if key(question) in taken:
                continue
            alternates = [a for a in base["alternates"] if rng.random() < 0.5]
            slots = base["_slots"]
        else:
            group = GROUPS[rng.randrange(len(GROUPS))]
            slots = _fill(rng, vocab)
            order = rng.sample(group, len(group))
            stem = order[0].format(**slots)
            question = stem + rng.choice(("", "", "？", "？", "?"))
            if key(question) in taken:
                continue
            alternates = [t.format(**slots) for t in order[1 : 1 + rng.randint(0, 3)]]
        taken.add(key(question))
        rows.append(
            {
                "id": eid,
                "topic": eid,
                "question": question,
                "alternates": [a for a in dict.fromkeys(alternates) if key(a) != key(question)],
                "answer": rng.choice(ANSWERS).format(**slots),
                "sources": [{"title": f"常见问题合集 第{i // 1000 + 1}卷", "site": "rolebot bench"}],
                "tags": ["合成"],
                "_stem": stem,
                "_slots": slots,
            }
        )
    # some entries list another entry's exact question among their phrasings
    for row in rows:
        if len(rows) > 1 and rng.random() < shared_alt:
            other = rows[rng.randrange(len(rows))]
            if other is not row and key(other["question"]) not in {key(a) for a in row["alternates"]}:
                row["alternates"].append(other["question"])
    for row in rows:
        del row["_stem"], row["_slots"]
    return Synthetic(rows, classify(rows))


def loose(text: str) -> str:
    """Return a phrasing's key without punctuation, spaces and a closing particle (呢, 啊 …)."""
    text = "".join(ch for ch in key(text) if not unicodedata.category(ch).startswith(("P", "Z")))
    while text and text[-1] in PARTICLES:
        text = text[:-1]
    return text


def classify(rows: list[dict[str, Any]]) -> dict[str, str]:
    """Return, per entry whose question is hard to find, why: another entry asks it but for punctuation or a
    particle, or lists it (exactly, or but for punctuation) among its alternates. Plain entries are left out."""
    by_loose: dict[str, list[str]] = {}
    alt_exact: dict[str, str] = {}
    alt_loose: dict[str, str] = {}
    for row in rows:
        by_loose.setdefault(loose(row["question"]), []).append(row["id"])
        for alt in row["alternates"]:
            alt_exact.setdefault(key(alt), row["id"])
            alt_loose.setdefault(loose(alt), row["id"])
    notes: dict[str, str] = {}
    for row in rows:
        eid, q = row["id"], row["question"]
        twins = [i for i in by_loose[loose(q)] if i != eid]
        if twins:
            notes[eid] = f"near-duplicate: {', '.join(twins[:3])} ask it but for punctuation or a particle"
        elif alt_exact.get(key(q), eid) != eid:
            notes[eid] = f"shared: an alternate of {alt_exact[key(q)]}"
        elif alt_loose.get(loose(q), eid) != eid:
            notes[eid] = f"shared: an alternate of {alt_loose[loose(q)]} but for punctuation"
    return notes
