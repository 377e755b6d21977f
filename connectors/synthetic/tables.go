package synthetic

import "math/rand/v2"

// region is a 6-digit administrative division (统筹区) with what the generator needs to
// know about it.
type region struct {
	code     string
	name     string // city and district, as in a firm's registered name
	city     string // city name used in issuers and authorities
	province string
	wageLow  int64 // average monthly wage of 2017, yuan
	wageHigh int64
}

// regions are the districts the synthetic enterprises and persons live in: Jilin (22),
// Suzhou (3205), Xi'an (6101) and Haikou (4601).
var regions = []region{
	{"220102", "长春市南关区", "长春市", "吉林省", 4500, 7000},
	{"220103", "长春市宽城区", "长春市", "吉林省", 4300, 6500},
	{"220202", "吉林市昌邑区", "吉林市", "吉林省", 4000, 6000},
	{"220302", "四平市铁西区", "四平市", "吉林省", 3600, 5500},
	{"320505", "苏州市虎丘区", "苏州市", "江苏省", 7500, 12000},
	{"320506", "苏州市吴中区", "苏州市", "江苏省", 7000, 11000},
	{"320507", "苏州市相城区", "苏州市", "江苏省", 6800, 10500},
	{"320508", "苏州市姑苏区", "苏州市", "江苏省", 7200, 11500},
	{"610102", "西安市新城区", "西安市", "陕西省", 5500, 8500},
	{"610103", "西安市碑林区", "西安市", "陕西省", 5600, 8800},
	{"610113", "西安市雁塔区", "西安市", "陕西省", 6000, 9500},
	{"460105", "海口市秀英区", "海口市", "海南省", 5000, 7800},
	{"460106", "海口市龙华区", "海口市", "海南省", 5200, 8200},
	{"460107", "海口市琼山区", "海口市", "海南省", 4800, 7500},
	{"460108", "海口市美兰区", "海口市", "海南省", 5000, 7900},
}

// regionsWithPrefix returns the regions whose code starts with prefix.
func regionsWithPrefix(prefix string) []region {
	var out []region
	for _, r := range regions {
		if len(r.code) >= len(prefix) && r.code[:len(prefix)] == prefix {
			out = append(out, r)
		}
	}
	return out
}

// pickRegion draws a region: Suzhou has the most firms, then Jilin, Xi'an, Haikou.
func pickRegion(r *rand.Rand, prefix string) region {
	if prefix != "" {
		c := regionsWithPrefix(prefix)
		return c[r.IntN(len(c))]
	}
	switch u := r.IntN(100); {
	case u < 30:
		return pick(r, regionsWithPrefix("22"))
	case u < 65:
		return pick(r, regionsWithPrefix("3205"))
	case u < 85:
		return pick(r, regionsWithPrefix("6101"))
	default:
		return pick(r, regionsWithPrefix("4601"))
	}
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// industry is a GB/T 4754-2017 class with the words a firm of it puts in its name.
type industry struct {
	code  string
	word  string
	heavy bool // coal, steel, cement, glass: the sectors of 去产能 (capacity reduction)
	wage  int64
}

// industries lists the classes the generator draws from; wage is a per-mille factor
// on the regional wage.
var industries = []industry{
	{"B0610", "煤业", true, 1050},
	{"C3110", "钢铁", true, 1100},
	{"C3120", "特钢", true, 1100},
	{"C3011", "水泥", true, 950},
	{"C3041", "玻璃制品", true, 950},
	{"C3311", "金属结构制造", false, 1000},
	{"C3422", "机床制造", false, 1050},
	{"C3670", "汽车零部件", false, 1100},
	{"C3971", "电子元件", false, 1050},
	{"C1713", "纺织", false, 850},
	{"C1391", "食品", false, 850},
	{"C2710", "医药", false, 1200},
	{"C2614", "化工", false, 1050},
	{"C2927", "塑料制品", false, 900},
	{"E4720", "建筑工程", false, 950},
	{"F5137", "商贸", false, 900},
	{"G5430", "物流", false, 950},
	{"H6110", "酒店管理", false, 800},
	{"H6210", "餐饮管理", false, 750},
	{"I6513", "软件科技", false, 1500},
	{"K7020", "物业服务", false, 750},
	{"L7212", "企业管理咨询", false, 1100},
	{"M7320", "技术研究", false, 1400},
	{"O8010", "家政服务", false, 700},
}

var firmWords = []string{
	"华信", "恒达", "宏远", "鑫源", "中泰", "金桥", "瑞丰", "永盛", "天成", "博远", "汇通", "盛世",
	"东方", "长城", "新华", "光明", "卓越", "正大", "康泰", "嘉禾", "润泽", "德隆", "启航", "同创",
	"联合", "兴业", "腾飞", "明珠", "百川", "祥和", "振兴", "北方", "海川", "金穗", "亿丰", "三和",
	"万通", "安泰", "中盛", "昌隆", "国泰", "银河", "天马", "凯达", "信和", "顺达", "鼎盛", "泰和",
}

var firmSuffixes = []string{"有限公司", "有限公司", "有限公司", "有限责任公司", "股份有限公司"}

var surnames = []string{
	"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何",
	"高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾", "肖", "田",
	"董", "袁", "潘", "于", "蒋", "蔡", "余", "杜", "叶", "程", "苏", "魏", "吕", "丁", "任", "沈", "姚",
	"卢", "姜", "崔", "钟", "谭", "陆", "汪", "范", "金", "石", "廖", "贾", "夏", "韦", "付", "方", "白",
	"邹", "孟", "熊", "秦", "邱", "江", "尹", "薛", "闫", "段", "雷", "侯", "龙", "史", "陶", "黎", "贺",
	"欧阳", "上官",
}

var givenMale = []string{
	"伟", "强", "磊", "军", "勇", "杰", "涛", "斌", "超", "明", "刚", "平", "辉", "鹏", "华", "飞", "波",
	"建国", "志强", "海涛", "俊杰", "文博", "浩然", "宇航", "子豪", "晓东", "国庆", "建华", "永刚", "振宇",
}

var givenFemale = []string{
	"芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "燕", "玲", "婷", "雪", "慧", "琳", "颖", "洁", "倩",
	"秀英", "桂兰", "丽娟", "晓燕", "雅琴", "欣怡", "梓涵", "思雨", "佳怡", "春梅", "海燕", "玉兰", "淑珍",
}

// personName draws a Chinese name.
func personName(r *rand.Rand, male bool) string {
	if male {
		return pick(r, surnames) + pick(r, givenMale)
	}
	return pick(r, surnames) + pick(r, givenFemale)
}

// occupation is an entry of 国家职业分类大典 with a skill-level certificate.
type occupation struct {
	code string
	name string
}

var occupations = []occupation{
	{"6-18-01-01", "车工"},
	{"6-18-01-02", "铣工"},
	{"6-18-01-04", "磨工"},
	{"6-18-02-04", "焊工"},
	{"6-20-03-01", "电工"},
	{"6-31-01-03", "维修电工"},
	{"6-31-01-02", "机修钳工"},
	{"4-10-01-02", "育婴员"},
	{"4-10-01-05", "养老护理员"},
	{"4-10-01-06", "家政服务员"},
	{"4-03-02-01", "中式烹调师"},
	{"4-03-02-02", "中式面点师"},
	{"4-12-01-01", "汽车维修工"},
	{"4-04-05-02", "计算机程序设计员"},
	{"6-29-01-01", "砌筑工"},
	{"2-02-07-04", "机械设计工程技术人员"},
	{"4-07-05-01", "保安员"},
	{"4-01-02-01", "电子商务师"},
}

// occupationByCode returns the occupation with a code from the list above.
func occupationByCode(code string) occupation {
	for _, o := range occupations {
		if o.code == code {
			return o
		}
	}
	panic("synthetic: unknown occupation " + code)
}

var violations = []string{
	"超标排放大气污染物",
	"未批先建，建设项目环境影响评价文件未经批准擅自开工建设",
	"未按规定设置排污口",
	"违反危险废物贮存管理规定",
	"通过暗管逃避监管排放水污染物",
	"未依法公开环境信息",
	"污染防治设施未正常运行",
	"无证排污",
}

// provinceAbbrev is the one-character name used in decision numbers (吉环罚〔2019〕…).
var provinceAbbrev = map[string]string{"22": "吉", "32": "苏", "61": "陕", "46": "琼"}
